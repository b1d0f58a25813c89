"""Metodología y definiciones: how every figure of the dashboard is counted and computed."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._common import counting_rule, dataframe, download_buttons, notes_for_download, page_filters
from core import (
    alerts,
    classify,
    deployment,
    fmt,
    hotspots,
    methodology,
    priority,
    quality,
    rates,
    schools,
    spatial,
    trend,
    views,
    vulnerability,
    warehouse,
)

page_filters()
meta = warehouse.meta()

st.title("Metodología y definiciones")
st.caption("Cómo se cuenta y se calcula cada cifra del tablero. Todas se pueden reproducir a mano a partir del "
           "almacén de datos publicado (tablas incident, incident_cube y population).")

st.header("Qué se cuenta")
for term in methodology.GRAIN_DEFINITIONS:
    st.markdown(f"**{term}.** {methodology.GRAIN_DEFINITIONS[term]}")
st.subheader("Delitos que registran varias instituciones")
rules = quality.reconciliation_rules()
if rules.empty:
    st.markdown("En esta carga ningún delito está declarado como registrado por varias instituciones: cuentan todos "
                "los registros de cada fuente.")
else:
    st.markdown("Cuando varias instituciones registran el mismo delito, sumarlas contaría dos veces a las víctimas que "
                "registran ambas. Cada uno de esos delitos tiene una regla que decide qué registros cuentan; los de las "
                "demás instituciones se conservan y se comparan en «Calidad de datos».")
    dataframe(rules.rename(columns={"crime": "Delito", "rule_label": "Regla", "reference": "Fuente de referencia"})[
        ["Delito", "Regla", "Fuente de referencia"]], hide_index=True, width="stretch")
    for label in dict.fromkeys(rules["rule_label"]):
        st.markdown(f"**{label}.** {methodology.RECONCILIATION_RULES.get(label, '')}")
if counting_rule(meta):
    st.caption(counting_rule(meta))
st.markdown("**Filtros.** El periodo, los grupos y tipos de delito, el sexo y la edad de la víctima y el departamento "
            "se aplican a todas las cifras de incidencia; cada página dice qué filtros no usa.")

st.header("Tasas y denominadores")
st.markdown(rates.DEFINITIONS[rates.RATE_NAME])
st.markdown(methodology.RATE_FORMULA)
st.markdown("Con un filtro de sexo o edad se usa la población del mismo sexo y grupo de edad; si el almacén no tiene "
            "esa desagregación se usa la población total y la página lo advierte. No hay población para víctimas "
            "sin sexo o sin edad registrada: con ese filtro la tasa no se calcula.")
dens = methodology.denominators()
dataframe({"Denominador": list(dens), "Valor": list(dens.values())}, hide_index=True, width="stretch")

st.subheader("Tasa suavizada (Bayes empírico)")
st.markdown(rates.DEFINITIONS["Tasa suavizada (Bayes empírico)"])
st.markdown(methodology.EB_FORMULA)

st.subheader("Tasa suavizada espacial (Bayes empírico)")
st.markdown(rates.DEFINITIONS["Tasa suavizada espacial (Bayes empírico)"] + " " + spatial.DEFINITION)
st.markdown(methodology.SPATIAL_EB_FORMULA)

st.subheader(f"Intervalo de confianza de cada tasa ({rates.INTERVAL_LABEL})")
st.markdown(rates.DEFINITIONS["Intervalo de confianza (IC 95 %)"])
st.markdown(methodology.INTERVAL_FORMULA)
st.markdown("**Puestos.** Un puesto por tasa no distingue a municipios cuyos intervalos se solapan: las tablas dicen "
            "entre qué puestos no se distingue cada uno, y el Resumen permite ordenar por el límite inferior del "
            "intervalo (arriba quedan las tasas altas con seguridad, no por azar de pocos casos). **Poblaciones "
            "pequeñas**: en un municipio con pocos habitantes, uno o dos casos más cambian mucho la tasa y su "
            "intervalo es ancho; no compare su puesto sin mirar el intervalo o la tasa suavizada.")

st.header("Puntos calientes")
st.markdown(hotspots.DEFINITION)
st.markdown(methodology.HOTSPOT_FORMULAS)

st.header("Tendencia y comparación con el año anterior")
st.markdown(trend.DEFINITION)

st.header("Clasificación en alta, media y baja")
st.markdown("Los territorios se reparten en 3 o 5 clases según el valor mostrado, calculadas sobre los territorios "
            f"mostrados. Los que no tienen dato quedan en «Sin dato»; en modo público, los que tienen de {views.SMALL_COUNTS} "
            "víctimas quedan en «" + classify.RESERVED + "» y no entran en los cortes.")
st.table(pd.DataFrame({"Método": list(classify.METHODS.values()),
                       "Cómo se forman las clases": [classify.HOW[m] for m in classify.METHODS],
                       "Qué significa «Alta»": [classify.MEANINGS[m] for m in classify.METHODS]}).set_index("Método"))

st.header("Índices")
st.markdown(f"**Índice de vulnerabilidad.** {vulnerability.DEFINITION}")
st.markdown(f"**Índice de prioridad territorial.** {methodology.PRIORITY_FORMULA}")
dataframe({"Componente": [c.name for c in priority.components()],
              "Tipo": [c.kind.capitalize() for c in priority.components()],
              "Definición": [c.definition for c in priority.components()],
              "Peso por defecto": [c.default_weight for c in priority.components()]},
             hide_index=True, width="stretch")
st.markdown(f"**Puntaje de riesgo de los centros educativos.** {methodology.SCHOOL_FORMULA}")
dataframe({"Componente": [c.name for c in schools.COMPONENTS],
              "Definición": [c.definition for c in schools.COMPONENTS],
              "Peso por defecto": [c.default_weight for c in schools.COMPONENTS]},
             hide_index=True, width="stretch")
st.markdown(f"**Alertas tempranas.** {alerts.METHOD}")
geocoding = schools.geocoding_warning(*[d.year for d in rates.data_period()], name=fmt.literal_markdown)
if geocoding:
    st.warning(geocoding, icon=":material/location_off:")

st.header("Referencias")
st.markdown(methodology.references_html(), unsafe_allow_html=True)  # constants of core/methodology.py, escaped

st.header("Cobertura y años parciales")
st.markdown(methodology.COVERAGE)
start, end = rates.data_period()
partial = rates.partial_years(start.year, end.year)
st.markdown(f"Datos del {start:%d/%m/%Y} al {end:%d/%m/%Y}"
            + (f"; años parciales: {', '.join(map(str, partial))}." if partial else "; todos los años están completos."))

st.header("Clasificación de delitos (ICCS)")
st.markdown("Cada tipo de delito nacional se asigna a un código de la Clasificación Internacional de Delitos con "
            "Fines Estadísticos (ICCS, UNODC 2015). Los tipos marcados como sensibles se protegen en modo público.")
catalogue = methodology.crime_catalogue().rename(columns={
    "name": "Delito", "crime_group": "Grupo", "iccs_code": "Código ICCS", "iccs_section": "Sección ICCS",
    "sensitive": "Sensible", "definition": "Definición", "code": "Código interno"})
catalogue["Sensible"] = catalogue["Sensible"].map({True: "Sí", False: "No"})
dataframe(catalogue, hide_index=True, width="stretch")
download_buttons(catalogue, "atalaya_delitos_iccs", notes_for_download(meta, "Clasificación de delitos (ICCS)"),
                 sheet="Delitos")
st.markdown("**Grupos de edad** de víctimas y población:")
ages = methodology.age_groups().rename(columns={"code": "Código", "label": "Grupo", "min_age": "Desde",
                                                "max_age": "Hasta"})
dataframe(ages, hide_index=True, width="stretch")

st.header("Protección de las víctimas")
st.markdown(f"Modo de este despliegue: **{'público' if deployment.is_public() else 'interno'}** "
            f"(variable de entorno `{deployment.ENV_VAR}` o clave `{deployment.SECRETS_KEY}` de "
            "`.streamlit/secrets.toml`).")
for rule in views.RULES:
    st.markdown(f"- {rule}")
st.markdown("**Ajuste de cada cifra** (probabilidad de cada ajuste según la cifra exacta; la clave de la celda, "
            "suma de las claves de sus registros, decide cuál le toca):")
dataframe(methodology.adjustment_table(), hide_index=True, width="content")
st.markdown("**Información que cambia el modo público en este almacén** (celdas con víctimas; «ajustadas»: la "
            f"cifra publicada no es la exacta; «reservadas»: se muestran como «{views.SUPPRESSED}»; ajuste promedio en víctimas y en % "
            "de la cifra exacta):")
dataframe(methodology.information_loss(), hide_index=True, width="stretch")
st.markdown("- El modo interno muestra todas las cifras y está pensado para el personal del observatorio; no debe "
            "publicarse.")
