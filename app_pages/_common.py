"""What every page shares: the start (shared filters) and the legend and download widgets.

Not a page itself: app.py registers the pages explicitly."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import classify, export, fmt, methodology, trend, views  # charts: the chart theme, for every page
from core.filters import FilterOptions, Filters, filter_options


def page_filters() -> tuple[Filters, FilterOptions]:
    """The shared sidebar filters drawn by app.py, with the period made explicit."""
    opts = filter_options()
    return st.session_state["filters"].resolved(opts), opts


def agreed(f: Filters, stem: str) -> str:
    """An adjective agreeing with the unit: agreed(f, "registrad") -> 'registradas' (víctimas) or
    'registrados' (hechos)."""
    return stem + ("as" if f.unit == "victimas" else "os")


def count_title(f: Filters) -> str:
    """The title of the count that follows the filters: 'Víctimas registradas' or 'Hechos registrados'."""
    return f"{f.unit_label} {agreed(f, 'registrad')}"


def show_notes(*notes: str | None, kind: str = "caption") -> list[str]:
    """Draw the notes that say what a figure leaves out (st.caption or st.info), skipping None and
    repeated ones; returns the notes drawn (for the notes of a download)."""
    shown = [n for n in dict.fromkeys(notes) if n]
    for note in shown:
        if kind == "info":
            st.info(note, icon=":material/info:")
        else:
            st.caption(note)
    return shown


MISSING = "—"


def trend_metrics(f: Filters, trend_row, code: str | None = None) -> None:
    """Two metrics every headline shares: the year so far against the same months of the year before
    (with its exact interval), and the trend of the period (annual change with its interval). A
    reserved count (public mode) shows neither change."""
    ytd, now, before = views.year_to_date(f, code)
    left, right, _, _ = st.columns(4)
    if ytd is None or now is None or before is None:
        left.metric("En lo que va del año", MISSING, help="Los datos no alcanzan el año anterior.")
    else:
        hidden = now.hidden or before.hidden or ytd.change_pct is None
        left.metric(f"En lo que va de {ytd.year} ({ytd.months})", now.text,
                    delta=None if hidden else f"{fmt.percent(ytd.change_pct, signed=True)} frente a {ytd.months} {ytd.year - 1}",
                    delta_color="inverse",
                    help=f"Mismos meses de {ytd.year - 1}: {before.text}."
                    + ("" if hidden else " Diferencia de la tasa "
                       + ("no significativa" if ytd.verdict == trend.FLAT else "significativa")
                       + f" (cociente de tasas, IC 95 %: {fmt.decimal(ytd.ratio_lo, 3)} a {fmt.decimal(ytd.ratio_hi, 3)}; "
                       "significativa solo si el intervalo no incluye el 1)."))
    if trend_row is None or not trend_row["verdict"]:
        right.metric("Tendencia del periodo", MISSING,
                     help=f"Hacen falta al menos {trend.MIN_YEARS} años con población y casos en dos de ellos; en modo "
                          f"público, ningún año con {views.SMALL_COUNTS} {f.noun()} (el ajuste los daría).")
    else:
        verdict = trend_row["verdict"]
        right.metric("Tendencia del periodo", f"{fmt.percent(trend_row['change'], 1, signed=True)} al año",
                     delta=verdict, delta_color="off" if verdict == trend.FLAT else "inverse",
                     delta_arrow="up" if verdict == trend.RISING else "down" if verdict == trend.FALLING else "off",
                     help=f"Cambio anual de la tasa: {fmt.percent(trend_row['change'], 1, signed=True)} (IC 95 %: "
                          f"{fmt.percent(trend_row['change_lo'], 1, signed=True)} a "
                          f"{fmt.percent(trend_row['change_hi'], 1, signed=True)}), regresión de Poisson con "
                          "sobredispersión. «Sin tendencia clara» cuando el intervalo incluye el 0.")


def dataframe(data, **kwargs):
    """st.dataframe with every number in the same convention: counts with thousands separators
    (12,345), other decimals with one decimal (12.3), years as they are (2021), months as 03/2021;
    an empty table is a sentence, not Streamlit's «empty»; an explicit
    ``column_config`` of a column wins. A count column with suppressed cells (public mode, "<5") is
    shown as text; a missing text reads «—». Downloads keep the plain numbers."""
    if isinstance(data, pd.DataFrame) and data.empty:  # Streamlit would write «empty» in English
        return st.caption("Sin filas con esta selección.")
    if isinstance(data, pd.DataFrame):
        data = _numbers_as_numbers(data)
        config = number_formats(data) | dict(kwargs.get("column_config") or {})
        mixed = views.suppressed_columns(data)
        if mixed:
            data = views.as_text(data)
            config |= {c: st.column_config.TextColumn(c) for c in mixed}
        kwargs["column_config"] = config
    kwargs.setdefault("placeholder", MISSING)  # a missing value reads «—», never «None»
    return st.dataframe(data, **kwargs)


def counting_rule(meta: dict) -> str | None:
    """The rule that decides which institution's records count (written at load time, with the
    institutions' names), as Markdown that shows it literally; None when the warehouse has none."""
    rule = meta.get("counting_rule")
    return f"**Regla de conteo entre fuentes.** {fmt.literal_markdown(rule)}" if rule else None


def multiselect(where, label: str, options, **kwargs):
    """st.multiselect (in ``where``: st, st.sidebar or a container) without Streamlit's bulk action,
    which reads «Select all» in English whatever the page's language; an empty choice means «all»
    on every page (the placeholder says so)."""
    kwargs.setdefault("select_all", False)
    return where.multiselect(label, options, **kwargs)


def selectbox(where, label: str, options, **kwargs):
    """st.selectbox (in ``where``) with its placeholder in Spanish: Streamlit's reads «Choose an
    option» (shown while a person types to search the list)."""
    kwargs.setdefault("placeholder", "Elija una opción")
    return where.selectbox(label, options, **kwargs)


def _numbers_as_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of Python objects that hold only numbers (a protected count column of rows none of
    which is reserved) back to a numeric type, so that they get the number format."""
    def only_numbers(values: pd.Series) -> bool:
        known = values.dropna()
        return bool(len(known)) and known.map(lambda v: isinstance(v, (int, float, np.integer, np.floating))
                                              and not isinstance(v, (bool, np.bool_))).all()
    numeric = [c for c in df.columns if df[c].dtype == object and only_numbers(df[c])]
    return df.assign(**{c: pd.to_numeric(df[c]) for c in numeric}) if numeric else df


def number_formats(df: pd.DataFrame) -> dict:
    """The column_config of every numeric column: whole numbers with thousands separators, other
    decimals with one decimal; a year column (whole numbers 1900-2100 named like a year) plain."""
    out = {}
    for column in df.columns:
        values = df[column]
        if pd.api.types.is_datetime64_any_dtype(values):  # a month reads 03/2021, a day 15/03/2021
            known = values.dropna()
            monthly = bool(len(known)) and bool((known.dt.day == 1).all())
            out[column] = st.column_config.DateColumn(format="MM/YYYY" if monthly else "DD/MM/YYYY")
            continue
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            continue
        known = values.dropna()
        whole = pd.api.types.is_integer_dtype(values) or bool(len(known) and (known == known.round()).all())
        if whole and _is_year(str(column), known):
            out[column] = st.column_config.NumberColumn(format="%d")
        else:
            out[column] = st.column_config.NumberColumn(format="%,d" if whole else "%,.1f")
    return out


def _is_year(name: str, values: pd.Series) -> bool:
    label = name.lower()
    return ("año" in label or "anio" in label or label == "year") and bool(values.between(1900, 2100).all())


def download(where, label: str, data, file_name: str, mime: str, icon: str = ":material/download:", **kwargs) -> None:
    """A download button (in ``where``: st or a container). It does not rerun the page: a rerun
    dropped the file behind a deferred download (a callable), so a second download right after a
    first failed. Its label is never cut (the button is as wide as its text)."""
    where.download_button(label, data, file_name=file_name, mime=mime, icon=icon, on_click="ignore",
                          width="content", **kwargs)


def download_row():
    """Download buttons side by side that wrap instead of cutting their labels in a narrow column."""
    return st.container(horizontal=True, wrap=True, gap="small")


def download_buttons(df, stem: str, notes: list[str], sheet: str = "Datos") -> None:
    """CSV and Excel downloads of a table, side by side; the Excel file carries the notes. The
    files are made when clicked (an Excel file of tens of thousands of rows takes seconds)."""
    row = download_row()
    download(row, "Descargar CSV", lambda: export.csv_bytes(df), f"{stem}.csv", "text/csv", key=f"csv_{stem}")
    download(row, "Descargar Excel", lambda: export.xlsx_bytes(df, sheet, notes), f"{stem}.xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"xlsx_{stem}")


def notes_for_download(meta: dict, description: str, *extra: str) -> list[str]:
    """What a downloaded table is: country, filters, caveats and the definitions."""
    notes = [f"Atalaya · {meta.get('country_name', '')} · {description}", *extra, *views.download_notes(),
             *(f"{term}: {text}" for term, text in methodology.definitions().items())]
    if meta.get("synthetic") == "true":
        notes.insert(0, "DATOS SINTÉTICOS DE DEMOSTRACIÓN: no representan la situación real.")
    return notes


def legend_table(classes, value_fmt, count_label: str) -> None:
    """The legend of a classified map: class (in its colour), bounds and how many territories."""
    legend = classes.legend
    table = pd.DataFrame({
        "Clase": legend["label"],
        "Rango": [classify.range_text(lo, up, value_fmt) for lo, up in zip(legend["lower"], legend["upper"])],
        count_label: legend["count"],
    })
    if legend["upper"].isna().all():  # categories (hot spots): no range to show
        table = table.drop(columns="Rango")
    colors = list(legend["color"])
    # dark text on light classes, white on dark ones (readable on every colour of the palettes)
    ink = ["#111" if _luminance(c) > 0.35 else "#fff" for c in colors]
    st.dataframe(table.style.apply(lambda col: [f"background-color: {c}; color: {t}" for c, t in zip(colors, ink)],
                                   subset=["Clase"]), hide_index=True, width="stretch",
                 column_config={count_label: st.column_config.NumberColumn(format="%,d")})


def _luminance(color: str) -> float:
    """Relative luminance (0 black, 1 white) of a #rrggbb colour."""
    r, g, b = (int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4))
    lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
