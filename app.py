"""Atalaya: entry point of the dashboard. Page config, data banner, shared filters, navigation."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import NoReturn

import streamlit as st
from streamlit.errors import StreamlitAuthError

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # pages import app_pages/_common.py and core/ wherever the app is started from
    sys.path.insert(0, str(ROOT))

from app_pages import _presenter
from app_pages._common import multiselect, selectbox
from app_pages._pages import PAGES, REGIONAL_ONLY
from core import auth, countries, deployment, presentation, views, warehouse, warmup
from core.filters import P_FROM, P_TO, PARAM_KEYS, SEX_LABELS, UNITS, Filters, filter_options

st.set_page_config(
    page_title="Atalaya · Observatorio de seguridad ciudadana",
    page_icon=str(ROOT / "data" / "icon.png"),  # a local file: a :material/ icon is fetched from Google
    layout="wide",
)

# Absolute: the app can be started from anywhere. Not named `pages/`: Streamlit runs the first session after
# a start in its legacy mode for a folder of that name next to app.py, and the widgets of that first run get
# other identities than in the runs after it, so the first filter a user chose was lost.
PAGES_DIR = ROOT / "app_pages"

# The toolbars Streamlit puts on tables, charts and maps speak English only («Download as CSV»,
# «Search», «Fullscreen») and cover the controls above them; every table and chart has its own
# Spanish download buttons instead.
st.html("<style>[data-testid='stElementToolbar'] { display: none !important; }</style>")

LOG = logging.getLogger("atalaya")
LOGIN_USER = "auth_user"  # session_state key: the local account logged in to this browser session
TESTING_KEY = "$$STREAMLIT_INTERNAL_KEY_TESTING"  # set in session_state by streamlit.testing's AppTest only
PAGE_ERROR = ("Esta página no pudo completarse por un error interno. Pruebe con otros filtros o vuelva a cargar "
              "la página; si el problema sigue, avise al equipo del observatorio.")
WAREHOUSE_UNAVAILABLE = ("Los datos del observatorio no están disponibles en este momento. Vuelva a intentarlo más "
                         "tarde; el equipo del observatorio tiene el detalle en el registro del servidor.")
NO_LOGIN_CONFIGURED = (
    "El modo interno muestra cifras exactas y solo se abre con usuario y contraseña, pero no hay ninguna forma de "
    "entrar configurada. Quien administra el servidor debe crear cuentas locales: ejecutar "
    "`python -m core.auth nueva-cuenta USUARIO` y pegar la línea que imprime bajo `[cuentas]` en "
    "`.streamlit/secrets.toml`; o configurar el proveedor de identidad del ministerio en la tabla `[auth]` del "
    "mismo archivo. Vea la sección «Inicio de sesión y despliegue» del README.")
BAD_ACCOUNTS = ("Las cuentas locales de `.streamlit/secrets.toml` tienen un error, así que nadie puede entrar. "
                "El registro del servidor dice cuál; genere cada línea con `python -m core.auth nueva-cuenta USUARIO`.")


UNIT_HELP = ("Víctimas: personas afectadas. Hechos: sucesos delictivos (un hecho puede tener varias víctimas o "
             "ninguna). Las dos unidades nunca se suman: cada cifra cuenta una sola.")


def url_filters() -> Filters:
    """The shared filters as the URL gives them, put into the sidebar widgets' state."""
    opts = filter_options()
    state = st.session_state
    initial = Filters.from_params(st.query_params.to_dict(), opts).resolved(opts)
    state["f_years"] = (initial.year_from, initial.year_to)
    state["f_groups"] = list(initial.crime_groups)
    state["f_types"] = list(initial.crime_types)
    state["f_sexes"] = list(initial.sexes)
    state["f_ages"] = list(initial.age_groups)
    state["f_dept"] = initial.dept_code or ""
    state["f_unit"] = initial.unit
    return initial


def sidebar_filters() -> Filters:
    """Draw the shared filters and keep them in the URL (st.query_params)."""
    opts = filter_options()
    state = st.session_state
    stale = "f_years" in state and (
        not (opts.min_year <= state["f_years"][0] <= state["f_years"][1] <= opts.max_year)
        or state.get("f_unit", opts.default_unit) not in opts.units)
    if "f_years" not in state or stale:  # first run, or a republished warehouse with another period
        url_filters()

    with st.sidebar:
        st.header("Filtros")
        if opts.min_year < opts.max_year:
            years = st.slider("Periodo", opts.min_year, opts.max_year, key="f_years")
        else:
            st.caption(f"Periodo: {opts.min_year}")
            years = (opts.min_year, opts.max_year)
        groups = multiselect(st, "Grupos de delito", opts.crime_groups, key="f_groups", placeholder="Todos")
        type_options = [t for t in opts.crime_type_names if not groups or opts.crime_group_of[t] in groups]
        state["f_types"] = [t for t in state["f_types"] if t in type_options]
        types = multiselect(st, "Tipos de delito", type_options, key="f_types", placeholder="Todos",
                               format_func=opts.crime_type_names.get)
        sexes = multiselect(st, "Sexo de la víctima", list(SEX_LABELS), key="f_sexes", placeholder="Todos",
                               format_func=SEX_LABELS.get)
        ages = multiselect(st, "Edad de la víctima", list(opts.age_group_labels), key="f_ages", placeholder="Todas",
                              format_func=opts.age_group_labels.get)
        dept = selectbox(st, "Departamento", [""] + list(opts.departments), key="f_dept",
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


def _read_secrets() -> dict:
    """The secrets as a plain dict; {} when there is no secrets file or it cannot be read (logged)."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError as exc:  # streamlit's StreamlitSecretNotFoundError: missing or not valid TOML
        LOG.warning("Secretos no disponibles: %s", exc)
        return {}


def _only(draw) -> NoReturn:
    """Draw ``draw`` in place of every page, then stop. Before the login the sidebar lists no page (without
    st.navigation Streamlit would show the page files), a deep link (/mapa?muni=0108) shows the login
    at its own address and, once logged in, opens the page it asked for."""
    st.navigation([st.Page(draw, title="Acceso", url_path=stem, default=stem == PAGES[0][0])
                   for stem, _, _ in PAGES], position="hidden").run()
    st.stop()


def _login_header() -> None:
    st.title("Atalaya · acceso interno")
    st.caption("Este tablero muestra cifras exactas, sin protección estadística: solo para personal autorizado.")


def _oidc_login() -> None:
    _login_header()
    if st.button("Entrar con la cuenta institucional", type="primary", icon=":material/login:"):
        try:
            st.login()
        except StreamlitAuthError as exc:
            LOG.error("st.login: %s", exc)
            st.error("El inicio de sesión institucional no está bien configurado (tabla [auth] de "
                     "secrets.toml, paquete Authlib). El registro del servidor tiene el detalle.")


def _login_form(accounts: dict) -> None:
    _login_header()
    with st.form("login", enter_to_submit=True):
        name = st.text_input("Usuario", autocomplete="username")
        password = st.text_input("Contraseña", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Entrar", type="primary")
    if submitted:
        result = auth.attempt_login(accounts, auth.THROTTLE, name, password)
        if result.ok:
            st.session_state[LOGIN_USER] = result.user
            LOG.info("Inicio de sesión: %s", result.user)
            st.rerun()
        LOG.warning("Inicio de sesión fallido para %r", auth.normalise_user(name)[:64])
        st.error(result.message)


def require_login() -> tuple[str, str]:
    """Internal mode: (who is logged in, how: 'oidc' or 'local'); otherwise draw the way in and stop.

    Nothing else (banner, filters, pages) runs before this returns."""
    secrets = _read_secrets()
    if auth.oidc_configured(secrets):
        if st.user.get("is_logged_in", False):
            return str(st.user.get("name") or st.user.get("email") or "usuario"), "oidc"
        _only(_oidc_login)
    try:
        accounts = auth.load_accounts(secrets)
    except auth.AccountError as exc:
        LOG.error("Cuentas locales: %s", exc)
        _only(lambda: st.error(BAD_ACCOUNTS))
    if not accounts:
        _only(lambda: st.error(NO_LOGIN_CONFIGURED))
    user = st.session_state.get(LOGIN_USER)
    if user in accounts:  # an account removed from secrets.toml is logged out at its next rerun
        return user, "local"
    _only(lambda: _login_form(accounts))


def logout_button(user: str, how: str) -> None:
    with st.sidebar:
        st.caption(f"Sesión iniciada: **{user}**")
        if st.button("Salir", icon=":material/logout:", key="logout"):
            LOG.info("Cierre de sesión: %s", user)
            if how == "oidc":
                st.logout()
            else:
                st.session_state.clear()
                st.rerun()


def main() -> None:
    try:
        public = deployment.is_public()
    except deployment.ModeError as exc:
        st.error(f"Configuración del modo de despliegue: {exc}")
        st.stop()
    if not public:
        logout_button(*require_login())
    try:
        regional = countries.registered()
    except countries.RegistryError as exc:
        LOG.error("Países: %s", exc)
        st.error(WAREHOUSE_UNAVAILABLE if public else f"Archivo de países: {exc}")
        st.stop()
    country = countries.chosen(st.query_params.to_dict())
    warehouse.choose(country.path if country else None)  # every query of this run reads that country's warehouse
    try:
        synthetic = warehouse.is_synthetic()
    except warehouse.WarehouseError as exc:
        if public:  # the message names the file's path on the server: only in the log
            LOG.error("Almacén no disponible: %s", exc)
            st.error(WAREHOUSE_UNAVAILABLE)
        else:
            st.error(str(exc))
        st.stop()
    if TESTING_KEY not in st.session_state:  # AppTest runs pages on many small warehouses: no background work
        warmup.start()
    pages = {stem: st.Page(PAGES_DIR / f"{stem}.py", title=title, icon=icon, default=stem == PAGES[0][0])
             for stem, title, icon in PAGES if stem not in REGIONAL_ONLY or len(regional) > 1}
    if _presenter.active():
        present(pages, synthetic)
        return
    if synthetic:
        st.warning(warehouse.synthetic_notice(), icon=":material/science:")
    if len(regional) > 1 and country is not None:
        country_switcher(regional, country)
    st.session_state["filters"] = sidebar_filters()
    with st.sidebar:
        if public:
            st.caption(f"Modo público: las cifras de {views.SMALL_COUNTS} víctimas de delitos sensibles y por aldea se muestran "
                       f"como «{views.SUPPRESSED}». Vea «Metodología y definiciones».")
        else:
            st.warning(f"Modo interno: se muestran todas las cifras, también las menores que {views.MIN_COUNT}. No publique "
                       "esta vista.", icon=":material/lock_open:")
    page = st.navigation(list(pages.values()), expanded=True)  # collapsed, it would offer «View 3 more» (English)
    page.run()
    presentation_tools(pages, page.url_path or PAGES[0][0])  # after the page: its link holds what it just drew


def country_switcher(regional: tuple[countries.Country, ...], country: countries.Country) -> None:
    """A regional deployment: which country the pages show (``?pais=``). Another country opens the same page
    anew, as its link would: its periods, departments and codes are its own."""
    names = {c.code: countries.name(c) for c in regional}
    with st.sidebar:
        choice = st.selectbox("País", list(names), index=list(names).index(country.code), format_func=names.get,
                              key=f"pais_{country.code}", help="Cada país tiene su propio almacén de datos.")
    if choice != country.code:
        _presenter.clear_state(keep=(LOGIN_USER, _presenter.TEXT_KEY))
        st.query_params.clear()  # this page, with only the country: its filters and choices start anew
        st.query_params[countries.P_COUNTRY] = choice
        st.rerun()


def present(pages: dict[str, st.Page], synthetic: bool) -> None:
    """Presenter mode: no sidebar (the filters come from the URL), the presenter bar, then the page."""
    _presenter.frame()
    st.session_state["filters"] = url_filters()
    page = st.navigation(list(pages.values()), position="hidden")
    _presenter.bar(pages, page.url_path or PAGES[0][0], keep=(LOGIN_USER, _presenter.TEXT_KEY), synthetic=synthetic)
    page.run()


def presentation_tools(pages: dict[str, st.Page], current: str) -> None:
    """At the foot of the sidebar: show this view full screen, or add it to the presentation."""
    params = presentation.without_presenter(st.query_params.to_dict())
    with st.sidebar:
        st.divider()
        st.page_link(pages[current], label="Presentar esta vista", icon=":material/fit_screen:",
                     query_params=params | {presentation.P_PRESENT: "1"},
                     help="Muestra esta vista a pantalla completa, sin la barra lateral (para salir: Esc).")
        if current != "presentacion" and st.button(
                "Añadir a la presentación", icon=":material/add_to_queue:", key="pres_add",
                help="Guarda esta vista, con sus filtros, como la siguiente diapositiva de la página «Presentación»."):
            link = presentation.Slide(current, tuple(params.items())).link()
            text = st.session_state.get(_presenter.TEXT_KEY, "").rstrip("\n")
            st.session_state[_presenter.TEXT_KEY] = (text + "\n" if text else "") + link
            count = len(presentation.parse(st.session_state[_presenter.TEXT_KEY], list(pages), PAGES[0][0])[0])
            st.toast(f"Vista añadida a la presentación ({count} en total).",
                     icon=":material/slideshow:")


def run_safely() -> None:
    """main(), with any exception (shared filters or page) shown as a Spanish message.

    Never a path, SQL or traceback on screen in public mode: the detail goes to the server log
    (client.showErrorDetails = "none" covers what escapes this, e.g. widget callbacks)."""
    try:
        main()
    except Exception as exc:  # st.stop/st.rerun are BaseException and pass through
        LOG.exception("Error al dibujar la página")
        st.error(PAGE_ERROR, icon=":material/error:")
        if TESTING_KEY in st.session_state:
            raise  # AppTest: the page tests must still see the exception (at.exception)
        try:
            public = deployment.is_public()
        except deployment.ModeError:
            public = True
        if not public:  # staff behind the login see the detail, folded
            with st.expander("Detalle técnico (solo modo interno)"):
                st.exception(exc)


run_safely()
