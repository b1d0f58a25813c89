"""The pages of the dashboard, in the order of the navigation (app.py registers them)."""

# (file in app_pages/ and URL path, title, icon) of every page; the first is the default.
PAGES = [
    ("resumen", "Resumen", ":material/dashboard:"),
    ("mapa", "Mapa nacional", ":material/map:"),
    ("municipio", "Municipio", ":material/location_city:"),
    ("escuelas", "Centros educativos", ":material/school:"),
    ("informes", "Constructor de informes", ":material/query_stats:"),
    ("comparar", "Comparar", ":material/compare_arrows:"),
    ("region", "Región", ":material/public:"),
    ("alertas", "Alertas tempranas", ":material/notifications_active:"),
    ("mujeres", "Violencia contra las mujeres", ":material/female:"),
    ("encuestas", "Encuestas", ":material/ballot:"),
    ("seguimiento", "Seguimiento de planes", ":material/flag:"),
    ("datos_abiertos", "Datos abiertos", ":material/download:"),
    ("boletin", "Boletín", ":material/description:"),
    ("calidad", "Calidad de datos", ":material/fact_check:"),
    ("metodologia", "Metodología y definiciones", ":material/menu_book:"),
    ("presentacion", "Presentación", ":material/slideshow:"),
]
TITLES = {stem: title for stem, title, _ in PAGES}
DEFAULT = PAGES[0][0]
REGIONAL_ONLY = {"region"}  # shown only when the deployment serves several countries (core/countries.py)
