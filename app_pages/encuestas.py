"""Encuestas: design-based estimates from the victimisation and perception surveys (weighted, with
their 95 % interval, coefficient of variation and respondents), nationally and by department, sex,
age group and area, with a map by department."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._common import dataframe, download_buttons, legend_table, page_filters, selectbox, show_notes
from core import charts, classify, fmt, geo, survey, viewstate
from core.filters import SEX_LABELS
from core.viewstate import Control

f, opts = page_filters()
state = st.session_state

st.title("Encuestas de victimización y percepción")
listed = survey.surveys()
if listed.empty:
    st.info("Este almacén no tiene encuestas. Una encuesta (SPSS, Stata o CSV, con su diseño muestral) se declara en la "
            "configuración de carga, en [[encuestas]]: vea «Encuestas» en el README.", icon=":material/poll:")
    st.stop()
names = dict(zip(listed["survey"], listed["name"]))
AREAS = {"urbana": "Urbana", "rural": "Rural", "ND": "Sin dato"}
CONTROLS = [Control("enc_encuesta", "encuesta", listed["survey"].iloc[-1], list(names)),
            Control("enc_medida", "medida", "", None, parse=str),
            Control("enc_por", "por", "", list(survey.BREAKDOWNS))]
viewstate.restore(state, st.query_params, "encuestas", CONTROLS)
if len(names) > 1:  # one survey: its name is in the caption; several: a box as wide as their names
    chosen = selectbox(st, "Encuesta", list(names), key="enc_encuesta", format_func=names.get)
else:
    chosen = state["enc_encuesta"] = next(iter(names))
measures = survey.measures(chosen).set_index("measure")
if state["enc_medida"] not in measures.index:
    state["enc_medida"] = "victimizacion" if "victimizacion" in measures.index else measures.index[0]
c1, c2 = st.columns([2.2, 1])
measure = selectbox(c1, "Medida", list(measures.index), key="enc_medida", format_func=lambda m: measures.loc[m, "name"])
by = selectbox(c2, "Desglose", list(survey.BREAKDOWNS), key="enc_por", format_func=survey.BREAKDOWNS.get)
row = listed.set_index("survey").loc[chosen]
info = measures.loc[measure]
is_share = info["kind"] == "proporcion"


def value_text(x) -> str:
    return "—" if pd.isna(x) else (fmt.percent(x * 100) if is_share else fmt.decimal(x, 2))


def domain_label(code: str) -> str:
    if by == "dept_code":
        return opts.departments.get(code, code)
    if by == "sex":
        return SEX_LABELS.get(code, code)
    if by == "age_group":
        return opts.age_group_labels.get(code, "Sin dato")
    if by == "area":
        return AREAS.get(code, code)
    return "Nacional"


st.caption(f"{row['name']} · {row['institution']} · trabajo de campo {row['year']} · {fmt.integer(row['respondents'])} personas "
           f"entrevistadas" + (" · DATOS SINTÉTICOS DE DEMOSTRACIÓN" if row["synthetic"] else "")
           + " · los filtros de la barra lateral no se aplican a las encuestas")

national = survey.estimate(chosen, measure).iloc[0]
st.subheader(info["name"])
left, mid, right = st.columns(3)
left.metric(f"Estimación nacional, {row['year']}", value_text(national["est"]), help=info["definition"])
mid.metric("Intervalo de confianza del 95 %", "—" if pd.isna(national["lci"]) else
           f"{value_text(national['lci'])} a {value_text(national['uci'])}",
           help="Con el diseño de la encuesta (pesos, estratos y unidades primarias).")
right.metric("Personas que respondieron", fmt.integer(national["n"]),
             help=f"Sin contar {fmt.integer(national['excluded'])} respuestas «No sabe / No responde».")
if national["status"] not in ("ok",):
    st.warning(f"Estimación nacional: {national['status']}.", icon=":material/info:")

table = survey.estimate(chosen, measure, by)
table = table.assign(label=table["domain"].map(domain_label))
shown = table.dropna(subset=["est"])
withheld = table[table["est"].isna()]
if by and not shown.empty:
    if by == "dept_code":
        classes = classify.classify(table["est"] * (100 if is_share else 1), "cuantiles", 3, "incidencia")
        props = table.assign(
            code=table["domain"], name=table["label"], value_label=table["est"].map(value_text),
            interval_label=[("—" if pd.isna(lo) else f"{value_text(lo)} a {value_text(hi)}")
                            for lo, hi in zip(table["lci"], table["uci"])],
            status_label=table["status"], fill=[classify.hex_to_rgba(classes.color_of(c)) for c in classes.labels])
        collection = geo.feature_collection("departamento", props, ["code", "name", "value_label", "interval_label",
                                                                      "status_label", "fill"])
        tooltip = geo.tooltip("name", (info["name"], "value_label"), ("IC 95 %", "interval_label"),
                              ("Estado", "status_label"))
        map_col, legend_col = st.columns([2.4, 1])
        with map_col:
            st.pydeck_chart(geo.choropleth(collection, geo.view_state(geo.bounds("departamento")), tooltip,
                                           "departamentos"), height=geo.MAP_HEIGHT)
        with legend_col:
            st.markdown(f"**{fmt.literal_markdown(info['name'])}**" + (" (%)" if is_share else ""))
            legend_table(classes, fmt.decimal, "N.º")
            st.caption("Clases por cuantiles de las estimaciones publicadas; «Sin dato»: estimación no publicada "
                       "(ver la tabla). N.º = número de departamentos.")
    else:
        scale = 100 if is_share else 1
        bars = shown.assign(est_v=shown["est"] * scale, lci_v=shown["lci"] * scale, uci_v=shown["uci"] * scale)
        axis_title = info["name"] + (" (%)" if is_share else "")
        base = alt.Chart(bars).encode(y=alt.Y("label:N", title=survey.BREAKDOWNS[by], sort=None,
                                              axis=alt.Axis(labelLimit=0)))
        chart = (base.mark_bar(color=charts.PALETTE[0]).encode(
            x=alt.X("est_v:Q", title=axis_title),
            tooltip=[alt.Tooltip("label:N", title=survey.BREAKDOWNS[by]),
                     alt.Tooltip("est_v:Q", title=axis_title, format=",.1f"),
                     alt.Tooltip("lci_v:Q", title="IC 95 % inferior", format=",.1f"),
                     alt.Tooltip("uci_v:Q", title="IC 95 % superior", format=",.1f"),
                     alt.Tooltip("n:Q", title="Personas que respondieron", format=",")])
                 + base.mark_rule(color="#1f2430", strokeWidth=2).encode(x="lci_v:Q", x2="uci_v:Q")).properties(
            height=40 * len(bars) + 60, title=alt.TitleParams(
                f"{info['name']} por {survey.BREAKDOWNS[by].lower()}, {row['year']}",
                subtitle=charts.subtitle_lines(f"Fuente: {row['name']} · líneas: intervalo de confianza del 95 %"),
                anchor="start"))
        st.altair_chart(chart, width="stretch")
show_notes(f"No se publican {len(withheld)} estimación(es) ({', '.join(withheld['label'])}): "
           + "; ".join(sorted(set(withheld["status"]))) + "." if len(withheld) else None)

out = pd.DataFrame({
    survey.BREAKDOWNS[by]: table["label"], "Estimación": table["est"].map(value_text),
    "IC 95 % inferior": table["lci"].map(value_text), "IC 95 % superior": table["uci"].map(value_text),
    "CV (%)": (table["cv"] * 100).round(1), "Personas que respondieron": table["n"],
    "No sabe / No responde": table["excluded"], "Estado": table["status"]})
dataframe(out, hide_index=True, width="stretch", column_config={
    "CV (%)": st.column_config.NumberColumn(format="%.1f"),
    "Personas que respondieron": st.column_config.NumberColumn(format="localized"),
    "No sabe / No responde": st.column_config.NumberColumn(format="localized")})
download_buttons(out, f"atalaya_encuesta_{chosen}_{measure}_{by or 'nacional'}",
                 [f"{row['name']} ({row['institution']}, {row['year']})", f"{info['name']}: {info['definition']}",
                  survey.RULE])

if isinstance(info["crime_type"], str) and info["crime_type"]:
    hidden = survey.hidden_figure(chosen, measure)
    if not hidden.empty:
        crime_name = opts.crime_type_names.get(info["crime_type"], info["crime_type"])
        st.subheader("Cifra oculta: la encuesta frente a los registros")
        top = hidden.iloc[0]
        a, b, c = st.columns(3)
        a.metric(f"Víctimas según la encuesta, {row['year']}", fmt.integer(top["estimated"]) if pd.notna(top["estimated"])
                 else "—", help="Proporción estimada × población que representan los pesos de la encuesta; intervalo: "
                 + ("—" if pd.isna(top["estimated_lo"]) else
                    f"{fmt.integer(top['estimated_lo'])} a {fmt.integer(top['estimated_hi'])}") + ".")
        b.metric(f"Víctimas registradas de {crime_name.lower()}, {row['year']}", top["recorded"],
                 help="Víctimas contadas en los registros del almacén ese año, de las edades que entrevista la encuesta.")
        c.metric("Víctimas según la encuesta por cada registrada", "—" if pd.isna(top["recorded_share"]) or
                 not top["recorded_share"] else fmt.integer(100 / top["recorded_share"]),
                 help="Cuántas víctimas estima la encuesta por cada víctima que llegó a los registros: la cifra oculta.")
        if "denuncia" in measures.index:
            reported = survey.estimate(chosen, "denuncia").iloc[0]
            if pd.notna(reported["est"]):
                st.caption(f"Según la misma encuesta, {fmt.percent(reported['est'] * 100)} de las víctimas denunció el "
                           f"delito (IC 95 %: {fmt.percent(reported['lci'] * 100)} a {fmt.percent(reported['uci'] * 100)}).")
        depts = hidden.iloc[1:]
        dataframe(pd.DataFrame({
            "Departamento": depts["domain"].map(lambda c: opts.departments.get(c, c)),
            "Víctimas según la encuesta": depts["estimated"].round(0),
            "IC 95 % inferior": depts["estimated_lo"].round(0), "IC 95 % superior": depts["estimated_hi"].round(0),
            "Víctimas registradas": depts["recorded"],
            "Según la encuesta por cada registrada": (100 / depts["recorded_share"].where(depts["recorded_share"] > 0)).round(0),
            "Estado de la estimación": depts["status"]}), hide_index=True, width="stretch", column_config={
            c: st.column_config.NumberColumn(format="localized") for c in
            ("Víctimas según la encuesta", "IC 95 % inferior", "IC 95 % superior",
             "Según la encuesta por cada registrada")})
        st.markdown("**Antes de comparar.** " + " ".join(survey.HIDDEN_FIGURE_CAVEATS))

with st.expander("Definiciones y diseño de la encuesta", icon=":material/functions:"):
    st.markdown(
        f"**{fmt.literal_markdown(info['name'])}.** {fmt.literal_markdown(info['definition'])} "
        f"Pregunta: `{info['question']}`" + (f"; ODS {info['sdg']}" if info["sdg"] else "") + ".\n\n"
        f"**Cómo se estima.** {survey.RULE}\n\n"
        f"**Diseño.** Peso `{row['weight']}`" + (f", estratos `{row['stratum']}`" if row["stratum"] else ", sin estratos")
        + (f", unidades primarias `{row['psu']}`" if row["psu"] else ", cada persona es su propia unidad") + "; archivo "
        f"`{row['file']}`, {fmt.integer(row['respondents'])} personas."
        + ("\n\n**Datos sintéticos.** Esta encuesta fue generada por computadora para la demostración." if row["synthetic"]
           else ""))

viewstate.save(state, "encuestas", CONTROLS)
viewstate.sync_url(st.query_params, viewstate.to_params(state, CONTROLS), CONTROLS)
