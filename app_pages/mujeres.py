"""Violencia contra las mujeres: femicide, sexual, intrafamily and other violence against women
(the crimes the catalogue marks), women victims, rates per 100,000 women, ages, trend and the
municipalities to prioritise."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from app_pages._common import count_title, dataframe, download_buttons, notes_for_download, page_filters, show_notes, trend_metrics
from core import coverage, fmt, rates, reports, vaw, views, warehouse

f, opts = page_filters()
meta = warehouse.meta()
scope = vaw.scope(f)
g = scope.filters
catalogue = vaw.catalogue()
rate_label = rates.rate_label(g)

st.title("Violencia contra las mujeres")
st.caption(g.describe(opts))
st.markdown("Mujeres víctimas de **" + ", ".join(catalogue["name"].str.lower()) + "**: los delitos que el catálogo "
            "marca como violencia contra las mujeres. Las tasas son por 100,000 mujeres de las mismas edades y años.")
show_notes(scope.ignored, kind="info")

# ---- Headline ------------------------------------------------------------------------------
h = rates.headline(g)
total, latest = views.count(g, h.count), views.count(g, h.latest_count)
change_hidden = latest.hidden or views.count(g, h.previous_count or 0).hidden
c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Mujeres {count_title(g).lower()}", total.text, help="Mujeres víctimas de estos delitos en el periodo.")
c2.metric(rate_label.replace("Tasa", "Tasa anual"), "—" if total.hidden else fmt.decimal(h.rate),
          help="Víctimas ÷ personas-año de mujeres × 100,000 (media anual del periodo)."
               + (" No se muestra porque la cifra es menor que 5 (modo público)." if total.hidden else ""))
c3.metric(f"Mujeres víctimas en {rates.year_label(h.latest_year)}", latest.text,
          delta=None if h.change_pct is None or change_hidden else f"{fmt.percent(h.change_pct, signed=True)} vs "
                                                                    f"{h.latest_year - 1}", delta_color="inverse")
c4.metric("Municipios con víctimas", f"{fmt.integer(h.municipalities_with_cases)} de {fmt.integer(h.municipalities)}")
trend_metrics(g, None if total.hidden else views.national_trend(g))
show_notes(h.denominator.note, coverage.describe_month_gaps(g), kind="info")


def report_section(report: reports.Report, stem: str, note: str | None = None) -> None:
    """A protected report of this page: chart, notes, table with its total, downloads."""
    if report.data.empty:
        st.info("No hay víctimas con estos filtros.")
        return
    chart = reports.chart(report)
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    show_notes(*report.notes, note)
    table = reports.with_totals(report)
    dataframe(table, hide_index=True, width="stretch", column_config={
        report.value_label: st.column_config.NumberColumn(format="%.1f" if report.spec.measure == "rate" else "localized")})
    st.caption(report.caption)
    download_buttons(table, stem, notes_for_download(meta, report.title, report.caption, *report.notes))


# ---- By crime, by age, trend ----------------------------------------------------------------
st.subheader("Por delito")
report_section(vaw.by_crime(g), "atalaya_mujeres_delito")

st.subheader("Por grupo de edad")
ages = vaw.by_age(g)
report_section(ages, "atalaya_mujeres_edad",
               None if ages.spec.measure == "rate" else "La población no tiene grupos de edad: se muestran las víctimas, "
                                                         "sin tasa por edad.")

st.subheader("Evolución")
report_section(vaw.trend(g), "atalaya_mujeres_evolucion")

st.subheader("Relación entre la víctima y el agresor")
if vaw.has_relation():
    st.info("Los registros traen la relación entre la víctima y el agresor; use el constructor de informes para "
            "desglosarla.")
else:
    st.info("Ninguna fuente cargada registra la relación entre la víctima y el agresor (pareja, expareja, familiar, "
            "conocido, desconocido): esta página no puede mostrarla. Para tenerla, la institución debe entregar esa "
            "columna y declararla en la configuración de carga.", icon=":material/info:")

# ---- Territories to prioritise --------------------------------------------------------------
st.subheader("Municipios prioritarios")
st.markdown("Los municipios con la tasa de estos delitos más alta, ordenados por la **tasa suavizada** (Bayes "
            "empírico: una tasa de un municipio con pocas mujeres se acerca a la media, así que no llega arriba por "
            "azar de pocos casos), con su tasa observada y su intervalo de confianza del 95 %.")
top = vaw.priority(g)
reserved = int(views.is_suppressed(views.municipalities(g)["n"]).sum())
if top.empty:
    st.info("Ningún municipio tiene una tasa que se pueda mostrar con estos filtros.")
else:
    dataframe(top.drop(columns=["code"]).rename(columns={
        "rank": "Puesto", "name": "Municipio", "department": "Departamento", "n": "Mujeres víctimas",
        "population": "Personas-año (mujeres)", "rate": rate_label, "rate_lo": f"{rates.INTERVAL_LABEL} inferior",
        "rate_hi": f"{rates.INTERVAL_LABEL} superior", "rate_eb": "Tasa suavizada"}),
        hide_index=True, width="stretch", column_config={
            "Personas-año (mujeres)": st.column_config.NumberColumn(format="localized"),
            rate_label: st.column_config.NumberColumn(format="%.1f"),
            "Tasa suavizada": st.column_config.NumberColumn(format="%.1f")})
    # a link (a new page load): the sidebar reads the filters from the address when a session starts
    st.markdown(f":material/map: [Ver estos delitos, para mujeres víctimas, en el mapa nacional](mapa?{urlencode(g.to_params())})")
if reserved:
    st.caption(f"{fmt.integer(reserved)} municipio(s) con {views.SMALL_COUNTS} víctimas no entran en el orden: su "
               "cifra y su tasa se reservan (modo público).")
show_notes(coverage.left_out(g, "municipio"))

# ---- Definitions ----------------------------------------------------------------------------
with st.expander("Definiciones de estos delitos", icon=":material/menu_book:"):
    for row in catalogue.itertuples():
        st.markdown(f"**{row.name}** (ICCS {row.iccs_code}). {row.definition}")
    st.markdown("**Protección de las víctimas.** " + " ".join(views.download_notes()))
st.caption(rates.source_line(g))
