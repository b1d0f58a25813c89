"""Atalaya: entry point of the dashboard. Page config, data banner, shared filters, navigation."""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # pages import pages/_common.py and core/ wherever the app is started from
    sys.path.insert(0, str(ROOT))

from core import disclosure, warehouse
from core.filters import P_FROM, P_TO, PARAM_KEYS, SEX_LABELS, UNITS, Filters, filter_options

st.set_page_config(
    page_title="Atalaya · Observatorio de seguridad ciudadana",
    page_icon=str(ROOT / "data" / "icon.png"),  # a local file: a :material/ icon is fetched from Google
    layout="wide",
)

PAGES_DIR = ROOT / "pages"  # absolute: the app can be started from anywhere

# The toolbars Streamlit puts on tables, charts and maps speak English only («Download as CSV»,
# «Search», «Fullscreen») and cover the controls above them; every table and chart has its own
# Spanish download buttons instead.
st.html("<style>[data-testid='stElementToolbar'] { display: none !important; }</style>")

UNIT_HELP = ("Víctimas: personas afectadas. Hechos: sucesos delictivos (un hecho puede tener varias víctimas o "
             "ninguna). Las dos unidades nunca se suman: cada cifra cuenta una sola.")


def sidebar_filters() -> Filters:
    """Draw the shared filters and keep them in the URL (st.query_params)."""
    opts = filter_options()
    state = st.session_state
    stale = "f_years" in state and (
        not (opts.min_year <= state["f_years"][0] <= state["f_years"][1] <= opts.max_year)
        or state.get("f_unit", opts.default_unit) not in opts.units)
    if "f_years" not in state or stale:  # first run, or a republished warehouse with another period
        initial = Filters.from_params(st.query_params.to_dict(), opts).resolved(opts)
        state["f_years"] = (initial.year_from, initial.year_to)
        state["f_groups"] = list(initial.crime_groups)
        state["f_types"] = list(initial.crime_types)
        state["f_sexes"] = list(initial.sexes)
        state["f_ages"] = list(initial.age_groups)
        state["f_dept"] = initial.dept_code or ""
        state["f_unit"] = initial.unit

    with st.sidebar:
        st.header("Filtros")
        if opts.min_year < opts.max_year:
            years = st.slider("Periodo", opts.min_year, opts.max_year, key="f_years")
        else:
            st.caption(f"Periodo: {opts.min_year}")
            years = (opts.min_year, opts.max_year)
        groups = st.multiselect("Grupos de delito", opts.crime_groups, key="f_groups", placeholder="Todos")
        type_options = [t for t in opts.crime_type_names if not groups or opts.crime_group_of[t] in groups]
        state["f_types"] = [t for t in state["f_types"] if t in type_options]
        types = st.multiselect("Tipos de delito", type_options, key="f_types", placeholder="Todos",
                               format_func=opts.crime_type_names.get)
        sexes = st.multiselect("Sexo de la víctima", list(SEX_LABELS), key="f_sexes", placeholder="Todos",
                               format_func=SEX_LABELS.get)
        ages = st.multiselect("Edad de la víctima", list(opts.age_group_labels), key="f_ages", placeholder="Todas",
                              format_func=opts.age_group_labels.get)
        dept = st.selectbox("Departamento", [""] + list(opts.departments), key="f_dept",
                            format_func=lambda c: opts.departments.get(c, "Todo el país"))
        if len(opts.units) > 1:
            unit = st.radio("Unidad", list(opts.units), key="f_unit", horizontal=True, format_func=UNITS.get,
                            help=UNIT_HELP)
        else:
            unit = opts.default_unit
        filters = Filters(
            year_from=int(years[0]), year_to=int(years[1]), crime_groups=tuple(groups), crime_types=tuple(types),
            sexes=tuple(sexes), age_groups=tuple(ages), dept_code=dept or None, unit=unit,
        )
        st.caption("Los filtros se guardan en la dirección de la página: cópiela para compartir esta vista.")

    wanted = filters.to_params()
    if (wanted.get(P_FROM), wanted.get(P_TO)) == (str(opts.min_year), str(opts.max_year)):
        del wanted[P_FROM]  # the whole period is the default: keep links short
        del wanted[P_TO]
    for key in PARAM_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]
    return filters


def main() -> None:
    try:
        synthetic = warehouse.is_synthetic()
    except warehouse.WarehouseError as exc:
        st.error(str(exc))
        st.stop()
    try:
        public = disclosure.is_public()
    except disclosure.ModeError as exc:
        st.error(f"Configuración del modo de despliegue: {exc}")
        st.stop()
    if synthetic:
        st.warning(warehouse.synthetic_notice(), icon=":material/science:")
    st.session_state["filters"] = sidebar_filters()
    with st.sidebar:
        if public:
            st.caption("Modo público: las cifras de 1 a 4 víctimas de delitos sensibles y por aldea se muestran "
                       "como «<5». Vea «Metodología y definiciones».")
        else:
            st.warning("Modo interno: se muestran todas las cifras, también las menores que 5. No publique "
                       "esta vista.", icon=":material/lock_open:")
    pages = [
        st.Page(PAGES_DIR / "resumen.py", title="Resumen", icon=":material/dashboard:", default=True),
        st.Page(PAGES_DIR / "mapa.py", title="Mapa nacional", icon=":material/map:"),
        st.Page(PAGES_DIR / "municipio.py", title="Municipio", icon=":material/location_city:"),
        st.Page(PAGES_DIR / "escuelas.py", title="Centros educativos", icon=":material/school:"),
        st.Page(PAGES_DIR / "informes.py", title="Constructor de informes", icon=":material/query_stats:"),
        st.Page(PAGES_DIR / "alertas.py", title="Alertas tempranas", icon=":material/notifications_active:"),
        st.Page(PAGES_DIR / "datos_abiertos.py", title="Datos abiertos", icon=":material/download:"),
        st.Page(PAGES_DIR / "boletin.py", title="Boletín", icon=":material/description:"),
        st.Page(PAGES_DIR / "calidad.py", title="Calidad de datos", icon=":material/fact_check:"),
        st.Page(PAGES_DIR / "metodologia.py", title="Metodología y definiciones", icon=":material/menu_book:"),
    ]
    st.navigation(pages).run()


main()
