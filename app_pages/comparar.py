"""Comparar: two periods side by side (totals, a map of the change with its significance, the largest
increases) and two territories side by side (figures and yearly rates)."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import dataframe, legend_table, page_filters, selectbox, show_notes
from core import charts, classify, comparison, coverage, fmt, geo, municipality, rates, views, warehouse

f, opts = page_filters()
meta = warehouse.meta()
state = st.session_state

st.title("Comparar")
st.caption(f.describe(opts).split(" · ", 1)[1] + " · el periodo de la barra lateral no se aplica: cada lado elige el suyo")

# one view at a time (a chart in a hidden tab is never drawn, and both would be computed)
view = st.radio("Comparar", ["periodos", "territorios"], horizontal=True, key="cmp_view", label_visibility="collapsed",
                format_func={"periodos": "Dos periodos", "territorios": "Dos territorios"}.get)

# ---- Two periods ----------------------------------------------------------------------------
if view == "periodos":
    default_a, default_b = comparison.default_periods(f)
    left, right = st.columns(2)
    if opts.min_year < opts.max_year:
        a = left.slider("Periodo A", opts.min_year, opts.max_year, value=default_a, key="cmp_a")
        b = right.slider("Periodo B", opts.min_year, opts.max_year, value=default_b, key="cmp_b")
    else:
        a = b = (opts.min_year, opts.max_year)
        st.info("Los datos cubren un solo año: no hay dos periodos que comparar.")
    p = comparison.periods(f, a, b)
    label_a, label_b = p.labels
    totals = comparison.totals(p)
    change = totals.attrs["change"]
    c1, c2, c3 = st.columns(3)
    for col, row in zip((c1, c2), totals.itertuples()):
        col.metric(f"{f.unit_label} · {row.period}", row.n,
                   help=f"{rates.RATE_ANNUAL_LABEL}: " + ("—" if row.hidden else fmt.decimal(row.rate)))
    if change is None or change[0] is None:
        c3.metric(f"Cambio de la tasa, {label_b} vs {label_a}", "—",
                  help="No se muestra: una de las dos cifras está reservada (modo público) o falta población.")
    else:
        pct, lo, hi, p_value = change
        c3.metric(f"Cambio de la tasa, {label_b} vs {label_a}", fmt.percent(pct, signed=True),
                  help=f"Intervalo del 95 %: {fmt.percent((lo - 1) * 100, signed=True)} a "
                       f"{fmt.percent((hi - 1) * 100, signed=True)}; probabilidad de un cambio así por azar: "
                       f"{fmt.chance(p_value)}.")
    if a == b:
        st.info("Los dos periodos son iguales: elija periodos distintos para ver cambios.")

    table = comparison.municipalities(p)
    classes = classify.categorical(table["verdict"], comparison.ORDER, comparison.COLORS, "cambio")
    props = table.assign(
        fill=[classify.hex_to_rgba(classes.color_of(v)) for v in table["verdict"]],
        a_label=[views.label(v) for v in table["n_a"]], b_label=[views.label(v) for v in table["n_b"]],
        change_label=[("—" if pd.isna(c) else f"{fmt.percent(c, signed=True)} ({fmt.percent(lo, signed=True)} a "
                                               f"{fmt.percent(hi, signed=True)})")
                      for c, lo, hi in zip(table["change"], table["change_lo"], table["change_hi"])],
        verdict_label=table["verdict"])
    collection = geo.feature_collection("municipio", props, ["code", "name", "department", "a_label", "b_label",
                                                            "change_label", "verdict_label", "fill"])
    box = geo.bounds("municipio", table["code"]) if f.dept_code else geo.bounds("municipio")
    tooltip = geo.tooltip("name", "department", (f"{f.unit_label} {label_a}", "a_label"),
                          (f"{f.unit_label} {label_b}", "b_label"), ("Cambio de la tasa (IC 95 %)", "change_label"),
                          ("Resultado", "verdict_label"))
    st.subheader(f"Cambio de la tasa por municipio, {label_b} frente a {label_a}")
    map_col, legend_col = st.columns([2.6, 1.4])
    with map_col:
        st.pydeck_chart(geo.choropleth(collection, geo.view_state(box), tooltip, "comparar_municipios"),
                        height=geo.MAP_HEIGHT, key="cmp_map")
    with legend_col:
        legend_table(classes, fmt.decimal, "N.º")
        st.caption(comparison.METHOD + " N.º = número de municipios.")
    show_notes(coverage.left_out(p.b, "municipio"))

    st.subheader(f"Mayores aumentos, {label_b} frente a {label_a}")
    top = comparison.largest_increases(table)
    if top.empty:
        st.info(f"Ningún municipio tiene más {f.noun()} en {label_b} que en {label_a} (entre los que se pueden mostrar).")
    else:
        dataframe(pd.DataFrame({
            "Municipio": top["name"], "Departamento": top["department"],
            f"{f.unit_label} {label_a}": top["n_a"], f"{f.unit_label} {label_b}": top["n_b"],
            "Diferencia": top["diff"].astype("int64"),
            "Cambio de la tasa (%)": top["change"], "IC 95 % inferior (%)": top["change_lo"],
            "IC 95 % superior (%)": top["change_hi"],
            "Significativo": ["Sí" if s else "No" for s in top["significant"]]}),
            hide_index=True, width="stretch",
            column_config={"Diferencia": st.column_config.NumberColumn(format="%+d")})
        st.caption("Ordenados por la diferencia de " + f.noun() + ". «Significativo»: el aumento de la tasa no se "
                   "explica por el azar de los números pequeños (ver el método bajo el mapa). En el modo público, los "
                   "municipios con una cifra reservada en cualquiera de los dos periodos no aparecen: la diferencia la "
                   "revelaría.")

# ---- Two territories ------------------------------------------------------------------------
else:
    level = st.radio("Nivel", ["municipio", "departamento"], horizontal=True, key="cmp_level",
                     format_func={"municipio": "Municipios", "departamento": "Departamentos"}.get)
    if level == "municipio":
        munis = municipality.municipalities()
        labels = dict(zip(munis["code"], munis["label"]))
    else:
        labels = dict(opts.departments)
    codes = list(labels)
    left, right = st.columns(2)
    first = selectbox(left, "Territorio 1", codes, key=f"cmp_t1_{level}", index=0, format_func=labels.get)
    second = selectbox(right, "Territorio 2", codes, key=f"cmp_t2_{level}", index=min(1, len(codes) - 1),
                       format_func=labels.get)
    if first and second:
        for col, code in zip((left, right), (first, second)):
            fig = comparison.territory_figures(f, code, level)
            col.metric(f"{f.unit_label} · {comparison.period_label(f)}", fig["n"])
            col.metric(rates.RATE_ANNUAL_LABEL, "—" if fig["rate"] is None else fmt.decimal(fig["rate"]),
                       help="—" if fig["rate"] is None else
                       f"{rates.INTERVAL_LABEL}: {rates.interval_text(fig['rate_lo'], fig['rate_hi'], fmt.decimal)}")
        years = comparison.territory_years(f, [(first, level), (second, level)])
        years["territory"] = years["code"].map(labels)
        years["value"] = pd.to_numeric(years["rate"], errors="coerce")
        chart = alt.Chart(views.as_text(years)).mark_line(point=True).encode(
            x=alt.X("year:O", title="Año"), y=alt.Y("value:Q", title=rates.RATE_LABEL),
            color=charts.category_color("territory", "Territorio", list(dict.fromkeys(years["territory"]))),
            tooltip=[alt.Tooltip("territory:N", title="Territorio"), alt.Tooltip("year:O", title="Año"),
                     alt.Tooltip("n:N", title=f.unit_label), alt.Tooltip("value:Q", title=rates.RATE_COLUMN, format=",.1f")])
        st.altair_chart(chart.properties(height=300), width="stretch")
        if years["value"].isna().any():
            st.caption("Los años sin punto tienen la cifra reservada (modo público) o no tienen población.")
        st.caption(rates.source_line(f))
