"""Every mistake a technician makes first, as a table: each malformed input gets ONE clear Spanish
message that names the section or source, the file, the row (as a spreadsheet shows it: header =
row 1), the column, the value and what was expected, with a hint where it is obvious; no Python
error reaches the user (only ConfigError or LoadFailed, which `atalaya-load` prints), and a failed
load leaves the published warehouse byte for byte as it was.

The cases run on a tiny synthetic country (2 departments x 2 municipalities, squares in EPSG:4326,
population 2020-2021; tests/source_files.py), with `umbral_rechazo = 0`: one rejected row fails
the load, so every row-level mistake is a failed load too. Mistakes that only turn a descriptive
value into «sin dato», or that the loader repairs, load (in `check` mode) with their message in the
report."""
from __future__ import annotations

import codecs
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from core.load import cli
from core.load.build import run
from core.load.config import ConfigError
from core.load.load_report import LoadFailed
from tests.source_files import (
    TINY_COLUMNS,
    TINY_HEADER,
    square,
    tiny_geography_files,
    tiny_geography_toml,
    tiny_municipality_features,
    tiny_population_toml,
    tiny_rows,
    tiny_source_toml,
    write_csv,
    write_geojson,
)

PUBLISHED = b"el almacen publicado antes de la carga"
CRIMES = 'homicidio = ["HOMICIDIO"]\nrobo = ["ROBO"]'
NAME_HEADER = ["ID", "FECHA", "DEPTO", "MUNI", "DELITO", "SEXO", "EDAD"]
NAME_COLUMNS = TINY_COLUMNS.replace('municipio_codigo = "COD_MUNI"', 'departamento = "DEPTO"\nmunicipio = "MUNI"')
XY_HEADER = TINY_HEADER + ["LON", "LAT"]
XY_COLUMNS = TINY_COLUMNS + '\nlongitud = "LON"\nlatitud = "LAT"'


# ---------------------------------------------------------------------------------------------
# Writing a case: the tiny country, one incident source, and the change that makes the mistake
# ---------------------------------------------------------------------------------------------

def project(d: Path, rows: list[list[str]] | None = None, header: list[str] = TINY_HEADER, name: str = "policia.csv",
            encoding: str = "utf-8", source: str = "", columns: str = TINY_COLUMNS, crimes: str = CRIMES,
            population: str = "", root: str = "", tail: str = "", edit: Callable[[str], str] | None = None,
            municipalities: list | None = None, data: Path | None = None) -> Path:
    """Write the files and the configuration of one case into ``d``; returns the configuration path.

    ``rows``/``header``/``encoding`` make the incident CSV (``data`` replaces it by another file);
    ``source`` adds keys to [[incidentes]]; ``population`` to [poblacion]; ``root`` goes at the top
    of the configuration, ``tail`` at its end; ``edit`` rewrites the finished text."""
    files = tiny_geography_files(d, municipalities)
    if data is None:
        data = write_csv(d / name, tiny_rows() if rows is None else rows, encoding=encoding, header=header)
    text = (root + "\n" + tiny_geography_toml(files) + tiny_population_toml(files["poblacion"], population)
            + tiny_source_toml(data, extra=source, columns=columns, crimes=crimes) + tail)
    if edit is not None:
        text = edit(text)
    config = d / "carga.toml"
    config.write_text(text, encoding="utf-8")
    return config


def cell(rows: list[list[str]], i: int, column: str, value: str, header: list[str] = TINY_HEADER) -> list[list[str]]:
    """The rows with row ``i`` (0 = first data row = row 2 of the file) changed in ``column``."""
    rows = [list(r) for r in rows]
    rows[i][header.index(column)] = value
    return rows


def named_rows(n: int = 8) -> list[list[str]]:
    """Rows with the department and municipality by name (Colón / Santa Rosa de Aguán, Cortés / ...)."""
    places = [("Cortés", "San Pedro Sula"), ("Cortés", "Puerto Cortés"), ("Colón", "Trujillo"),
              ("Colón", "Santa Rosa de Aguán")]
    return [[r[0], r[1], *places[i % 4], *r[3:]] for i, r in enumerate(tiny_rows(n))]


def xy_rows(n: int = 8) -> list[list[str]]:
    """Rows with coordinates inside their municipality (the centre of its square)."""
    centre = {"0101": (-87.75, 15.5), "0102": (-87.25, 15.5), "0201": (-86.75, 15.5), "0202": (-86.25, 15.5)}
    return [r + [str(centre[r[2]][0]), str(centre[r[2]][1])] for r in tiny_rows(n)]


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count)
    return edit


def population_file(d: Path, text: str) -> Callable[[str], str]:
    """An edit that points [poblacion] to a file with ``text``."""
    path = d / "pob.csv"
    path.write_text(text, encoding="utf-8")
    return replace(str(d / "poblacion.csv"), str(path))


AGG_HEADER = ["DEPTO", "ANIO", "N"]
AGG_SOURCE = '''unidad_fila = "agregado"
unidad = "victimas"
precision_fecha = "anio"
nivel_territorio = "departamento"
constantes = { delito = "homicidio" }'''
AGG_COLUMNS = 'departamento = "DEPTO"\nanio = "ANIO"\ncantidad = "N"'


def aggregate(d: Path, rows: list[list[str]], columns: str = AGG_COLUMNS, source: str = AGG_SOURCE,
              header: list[str] = AGG_HEADER) -> Path:
    """A department x year table of homicide counts (no crime column: a constant)."""
    return project(d, rows=rows, header=header, name="tabla.csv", columns=columns, source=source, crimes="",
                   edit=replace("[incidentes.valores.delito]\n\n", ""))


def monthly(d: Path, rows: list[list[str]]) -> Path:
    """A department x month table of homicide counts (year and month columns)."""
    return project(d, rows=rows, header=["DEPTO", "ANIO", "MES", "N"], name="tabla.csv", crimes="",
                   columns=AGG_COLUMNS + '\nmes = "MES"',
                   source=AGG_SOURCE.replace('precision_fecha = "anio"', 'precision_fecha = "mes"'),
                   edit=replace("[incidentes.valores.delito]\n\n", ""))


AGG_ROWS = [["Cortés", "2021", "10"], ["Colón", "2021", "4"], ["Cortés", "2020", "7"]]


def aggregate_with(d: Path, constant: str) -> Path:
    """The aggregate table with another constant crime type."""
    return aggregate(d, AGG_ROWS, source=AGG_SOURCE.replace('delito = "homicidio"', constant))


def schools(d: Path, rows: list[list[str]]) -> Path:
    path = write_csv(d / "centros.csv", rows, header=["CODIGO", "NOMBRE", "MUNI"])
    return project(d, tail=f'''
[centros_educativos]
archivo = "{path}"
[centros_educativos.columnas]
codigo = "CODIGO"
nombre = "NOMBRE"
municipio_codigo = "MUNI"
''')


def indicators(d: Path, rows: list[list[str]], header: list[str] = ("MUNI", "POBREZA"), extra: str = "") -> Path:
    path = write_csv(d / "indicadores.csv", rows, header=list(header))
    key = 'municipio = "MUNI"' if "encabezado" in extra else 'municipio_codigo = "MUNI"'
    return project(d, tail=f'''
[[indicadores]]
archivo = "{path}"
{key}
anio = 2021
fuente = "Censo"
{extra}
[indicadores.columnas]
pobreza = {{ columna = "POBREZA", nombre = "Pobreza", unidad = "%" }}
''')


def utm_features() -> list:
    """The tiny municipalities in UTM zone 16N (metres), as (properties, rings)."""
    frame = gpd.GeoDataFrame([p for p, _ in tiny_municipality_features()],
                             geometry=[shapely.Polygon(r[0]) for _, r in tiny_municipality_features()], crs="EPSG:4326")
    utm = frame.to_crs("EPSG:32616")
    return [(dict(p), [list(map(list, g.exterior.coords))]) for p, g in zip(frame.drop(columns="geometry").to_dict("records"),
                                                                           utm.geometry)]


def shapefile_without_prj(d: Path) -> Path:
    frame = gpd.GeoDataFrame([p for p, _ in utm_features()], geometry=[shapely.Polygon(r[0]) for _, r in utm_features()],
                             crs=None)
    path = d / "municipios_utm.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # «'crs' was not provided»: that is the case
        frame.to_file(path)
    path.with_suffix(".prj").unlink(missing_ok=True)
    return path


def gpkg(d: Path) -> Path:
    frame = gpd.GeoDataFrame([p for p, _ in tiny_municipality_features()],
                             geometry=[shapely.Polygon(r[0]) for _, r in tiny_municipality_features()], crs="EPSG:4326")
    path = d / "limites.gpkg"
    frame.to_file(path, layer="municipios_2020", driver="GPKG")
    return path


def utf16_rows(d: Path, encoding: str, bom: bool = True, n: int = 8) -> Path:
    """A tab-separated file as Excel saves «Texto Unicode»: UTF-16 with (or without) its BOM."""
    lines = ["\t".join(TINY_HEADER)] + ["\t".join(r) for r in tiny_rows(n)]
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path = d / "excel_unicode.txt"
    path.write_bytes((codecs.BOM_UTF16_LE if bom else b"") + data)
    return path


def with_bytes(d: Path, name: str, data: bytes) -> Path:
    path = d / name
    path.write_bytes(data)
    return path


def unclosed_quote(d: Path, row: int, n: int = 8) -> Path:
    """The incident file with a quote that opens the FECHA field of data row ``row`` and never closes."""
    path = write_csv(d / "policia.csv", tiny_rows(n))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[row + 1] = lines[row + 1].replace(f"P-{row + 1},", f'P-{row + 1},"', 1)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def title_rows(d: Path) -> Path:
    """A report as exported: a title, a blank line, then the header and the rows."""
    path = write_csv(d / "policia.csv", tiny_rows())
    path.write_text("Reporte de denuncias 2021\r\n\r\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def huge_cell(d: Path) -> Path:
    """A legitimate cell of 200,000 characters (a narrative column), above csv's default field limit."""
    rows = [r + [("Relato de los hechos. " * 10_000) if i == 1 else "breve"] for i, r in enumerate(tiny_rows())]
    return write_csv(d / "policia.csv", rows, header=TINY_HEADER + ["RELATO"])


def relative_to_cwd(d: Path) -> Path:
    """The configuration in config/ and the data path written relative to the folder the load runs from."""
    (d / "datos").mkdir()
    data = write_csv(d / "datos" / "policia.csv", tiny_rows())
    (d / "config").mkdir()
    config = project(d, data=data, edit=replace(str(data), "datos/policia.csv"))
    moved = d / "config" / "carga.toml"
    config.rename(moved)
    return moved


def in_home(d: Path) -> Path:
    """The data path written with ~ (the test's HOME is the case folder)."""
    (d / "datos").mkdir()
    data = write_csv(d / "datos" / "policia.csv", tiny_rows())
    return project(d, data=data, edit=replace(str(data), "~/datos/policia.csv"))


def two_files_same_id(d: Path) -> Path:
    a = write_csv(d / "enero.csv", tiny_rows(4))
    b = write_csv(d / "febrero.csv", [["P-3", "05/02/2021", "0101", "ROBO", "M", "40"]])
    return project(d, data=a, edit=replace(f'archivos = ["{a}"]', f'archivos = ["{a}", "{b}"]'))


def second_source(d: Path, name: str) -> Path:
    other = write_csv(d / "fiscalia.csv", tiny_rows(3))
    return project(d, tail=tiny_source_toml(other, source=name))


def root_only(d: Path, text: str, tail: str = "") -> Path:
    """A configuration with the tiny geography and population whose incident sources are ``text`` (at the
    root) or ``tail`` (at the end), instead of [[incidentes]] sections."""
    files = tiny_geography_files(d)
    config = d / "carga.toml"
    config.write_text(text + "\n" + tiny_geography_toml(files) + tiny_population_toml(files["poblacion"]) + tail,
                      encoding="utf-8")
    return config


def raw_config(d: Path, text: str | bytes, name: str = "carga.toml") -> Path:
    d.mkdir(exist_ok=True)
    config = d / name
    config.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return config


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    id: str
    write: Callable[[Path], Path]      # writes the case's files into a folder; returns the configuration
    expect: tuple[str, ...]            # fragments of the message the user gets (location, value, expected, hint)
    outcome: str = "failed"            # config (ConfigError), failed (LoadFailed) or loaded (a check that passes)
    absent: tuple[str, ...] = ()       # what the message must not say (a misleading hint)


def mistake(id_: str, write: Callable[[Path], Path], *expect: str, outcome: str = "failed",
            absent: tuple[str, ...] = ()) -> Case:
    return Case(id_, write, expect, outcome, absent)


CONFIG_FILE = [
    mistake("config_no_existe", lambda d: d / "carga.tomll",
      "carga.tomll: configuración no válida", "no existe el archivo de configuración", outcome="config"),
    mistake("config_es_una_carpeta", lambda d: raw_config(d / "cfg", "pais = 1").parent,
      "es una carpeta; indique el archivo de configuración .toml (en la carpeta: carga.toml)", outcome="config"),
    mistake("config_vacia", lambda d: raw_config(d, "# solo comentarios\n\n"),
      "el archivo de configuración está vacío", "data/examples/honduras.toml", outcome="config"),
    mistake("config_no_utf8", lambda d: raw_config(d, 'pais = "HN"\nnombre_pais = "Hait\xed"\n'.encode("latin-1")),
      "línea 2: el archivo no está guardado en UTF-8 (byte 0xed)", "guárdelo como UTF-8", outcome="config"),
    mistake("toml_texto_sin_comillas", lambda d: project(d, edit=replace('fuente = "policia"', "fuente = policia")),
      "no es un TOML válido: línea", "«fuente = policia»", "los textos van entre comillas", outcome="config"),
    mistake("toml_ruta_windows", lambda d: project(d, root='notas = "C:\\datos\\policia.csv"'),
      "no es un TOML válido: línea 1", "barra invertida", "use barras /", outcome="config"),
    mistake("toml_comillas_sin_cerrar", lambda d: project(d, edit=replace('institucion = "Institución policia"',
                                                                     'institucion = "Institución policia')),
      "«institucion = \"Institución policia»", "comillas sin cerrar", outcome="config"),
    mistake("toml_seccion_repetida", lambda d: project(d, tail="\n[geografia.municipios]\nnombre = \"X\"\n"),
      "no es un TOML válido", "la sección [geografia.municipios] está declarada dos veces", outcome="config"),
    mistake("toml_clave_repetida", lambda d: project(d, edit=replace('fuente = "policia"', 'fuente = "policia"\nfuente = "pol"')),
      "«fuente = \"pol\"»", "la clave está declarada dos veces", outcome="config"),
]

CONFIG_KEYS = [
    mistake("conciliacion_delito_mal_escrito", lambda d: project(d, tail='\n[conciliacion]\ndelitos = ["homicidios"]\n'
                                                                        'regla = "referencia"\nreferencia = "policia"\n'),
      "[conciliacion.delitos] \"homicidios\" no es un tipo de delito del catálogo", "¿quiso decir 'homicidio'?",
      outcome="config"),
    mistake("conciliacion_regla_mal_escrita", lambda d: project(d, tail='\n[conciliacion]\ndelitos = ["homicidio"]\n'
                                                                       'regla = "maxima"\n'),
      "[conciliacion.regla] 'maxima' no es una regla", "(¿quiso decir 'maximo'?)", outcome="config"),
    mistake("conciliacion_referencia_desconocida", lambda d: project(d, tail='\n[conciliacion]\ndelitos = ["homicidio"]\n'
                                                                            'regla = "referencia"\nreferencia = "policía"\n'),
      "[conciliacion.referencia] 'policía' no es una de las fuentes declaradas; ¿quiso decir 'policia'?",
      outcome="config"),
    mistake("conciliacion_delito_con_dos_reglas", lambda d: project(
        d, tail='\n[[conciliacion]]\ndelitos = ["homicidio"]\nregla = "maximo"\n'
                '\n[[conciliacion]]\ndelitos = ["homicidio", "robo"]\nregla = "referencia"\nreferencia = "policia"\n'),
      "[conciliacion[2].delitos] 'homicidio' ya tiene regla en [conciliacion[1]]: cada delito lleva una sola regla",
      outcome="config"),
    mistake("conciliacion_clave_desconocida", lambda d: project(d, tail='\n[conciliacion]\ndelito = ["homicidio"]\n'
                                                                       'regla = "maximo"\n'),
      "[conciliacion] claves desconocidas ['delito']; 'delito': ¿quiso decir 'delitos'?", outcome="config"),
    mistake("clave_raiz_mal_escrita", lambda d: project(d, root="umbral = 0.1"),
      "[raíz] claves desconocidas ['umbral']; 'umbral': ¿quiso decir 'umbral_rechazo'?", outcome="config"),
    mistake("clave_raiz_despues_de_una_seccion", lambda d: project(d, tail="umbral_rechazo = 0.1\n"),
      "[incidentes.policia.valores.sexo.umbral_rechazo] se esperaba una lista de textos",
      "'umbral_rechazo' es una clave de la raíz", "mueva 'umbral_rechazo' al principio del archivo",
      outcome="config"),
    mistake("indicadores_lista_de_numeros", lambda d: project(d, root="indicadores = [1]"),
      "[indicadores] se esperaba una lista de secciones [[indicadores]]", "se encontró [1]: el elemento 1 no es una tabla",
      outcome="config"),
    mistake("indicadores_tabla_simple", lambda d: project(d, tail='\n[indicadores]\narchivo = "x.csv"\nanio = 2021\n'),
      "[raíz.indicadores] se esperaba una lista", "escriba cada una con doble corchete [[indicadores]]", outcome="config"),
    mistake("incidentes_tabla_simple", lambda d: root_only(d, "", '\n[incidentes]\nfuente = "policia"\narchivo = "x.csv"\n'),
      "[raíz.incidentes] se esperaba una lista, se encontró { fuente = \"policia\"", "doble corchete [[incidentes]]",
      outcome="config"),
    mistake("incidentes_lista_de_numeros", lambda d: root_only(d, "incidentes = [1, 2]"),
      "[incidentes] se esperaba una lista de secciones [[incidentes]]", "se encontró [1, 2]: los elementos 1, 2 no son "
      "tablas", outcome="config"),
    mistake("incidentes_vacio", lambda d: root_only(d, "incidentes = []"),
      "[incidentes] la lista está vacía: declare al menos una fuente [[incidentes]]", outcome="config"),
    mistake("alias_texto", lambda d: project(d, tail='\n[alias]\nmunicipios = "x"\n'),
      "[alias.municipios] se esperaba una tabla, se encontró \"x\"", outcome="config"),
    mistake("alias_seccion_mal_escrita", lambda d: project(d, tail='\n[alias.municipio]\n"Tegus" = "0101"\n'),
      "[alias] secciones desconocidas ['municipio']; 'municipio': ¿quiso decir 'municipios'?", outcome="config"),
    mistake("alias_valor_numero", lambda d: project(d, tail='\n[alias.municipios]\n"Tegus" = 101\n'),
      "[alias.municipios.Tegus] se esperaba un texto (nombre o código), se encontró 101", outcome="config"),
    mistake("codigo_fin_texto", lambda d: project(d, edit=replace("fin = 4", 'fin = "cuatro"')),
      "[geografia.municipios.codigo.fin] se esperaba un número entero, se encontró \"cuatro\"", outcome="config"),
    mistake("codigo_fin_entre_comillas", lambda d: project(d, edit=replace("fin = 4", 'fin = "4"')),
      "[geografia.municipios.codigo.fin] se esperaba un número entero, se encontró \"4\"",
      "escriba el número sin comillas", outcome="config"),
    mistake("codigo_rellenar_negativo", lambda d: project(d, edit=replace('codigo = "cod_municipio"',
                                                                     'codigo = { columna = "cod_municipio", rellenar = -4 }')),
      "[poblacion.codigo.rellenar] debe ser un número entero mayor o igual que 1, se encontró -4", outcome="config"),
    mistake("codigo_clave_mal_escrita", lambda d: project(d, edit=replace("fin = 4", "final = 4")),
      "[geografia.municipios.codigo] claves desconocidas ['final']; 'final': ¿quiso decir 'fin'?", outcome="config"),
    mistake("periodo_texto", lambda d: project(d, edit=replace('periodo = { desde = "2020-01-01", hasta = "2021-12-31" }',
                                                          'periodo = "2020-2021"')),
      "[raíz.periodo] se esperaba una tabla, se encontró \"2020-2021\"", outcome="config"),
    mistake("periodo_fecha_imposible", lambda d: project(d, edit=replace('desde = "2020-01-01"', 'desde = "2020-13-01"')),
      "[periodo.desde] se esperaba una fecha AAAA-MM-DD (p. ej. \"2020-01-01\"), se encontró \"2020-13-01\"",
      outcome="config"),
    mistake("periodo_invertido", lambda d: project(d, edit=replace('hasta = "2021-12-31"', 'hasta = "2019-12-31"')),
      "[periodo] 'hasta' (2019-12-31) es anterior a 'desde' (2020-01-01)", outcome="config"),
    mistake("umbral_en_porcentaje", lambda d: project(d, edit=replace("umbral_rechazo = 0.0", "umbral_rechazo = 5")),
      "[umbral_rechazo] debe estar entre 0 y 1 (0.05 = 5 %), se encontró 5 (¿quiso decir 0.05, es decir 5 %?)",
      outcome="config"),
    mistake("umbral_texto", lambda d: project(d, edit=replace("umbral_rechazo = 0.0", 'umbral_rechazo = "5%"')),
      "[raíz.umbral_rechazo] se esperaba un número, se encontró \"5%\"", outcome="config"),
    mistake("sintetico_texto", lambda d: project(d, root='sintetico = "si"'),
      "[raíz.sintetico] se esperaba true o false, se encontró \"si\"; escriba true o false, sin comillas", outcome="config"),
    mistake("fuente_repetida", lambda d: second_source(d, "policia"),
      "[incidentes[2].fuente] la fuente 'policia' está repetida", "declárelos juntos en archivos", outcome="config"),
    mistake("fuente_con_mayusculas", lambda d: second_source(d, "Fiscalía"),
      "[incidentes[2].fuente] 'Fiscalía' debe usar solo minúsculas, cifras y _", outcome="config"),
    mistake("fuente_nombre_reservado", lambda d: second_source(d, "poblacion"),
      "[incidentes[2].fuente] 'poblacion' es el nombre de otra entrada de la carga", outcome="config"),
    mistake("clave_de_fuente_mal_escrita", lambda d: project(d, source='formato_fechas = ["%d/%m/%Y"]'),
      "[incidentes.policia] claves desconocidas ['formato_fechas']; 'formato_fechas': ¿quiso decir 'formato_fecha'?",
      outcome="config"),
    mistake("campo_de_columna_mal_escrito", lambda d: project(d, columns=TINY_COLUMNS + '\ndelit = "DELITO2"'),
      "[incidentes.policia.columnas] campos desconocidos ['delit']; 'delit': ¿quiso decir 'delito'?", outcome="config"),
    mistake("columnas_texto", lambda d: project(d, edit=replace("[incidentes.columnas]\n" + TINY_COLUMNS,
                                                           'columnas = "FECHA"')),
      "[incidentes.policia.columnas] se esperaba una tabla, se encontró \"FECHA\"", outcome="config"),
    mistake("valores_texto", lambda d: project(d, source='valores = "delito"', edit=lambda t: t.split("[incidentes.valores.delito]")[0]),
      "[incidentes.policia.valores] se esperaba una tabla", "se encontró \"delito\"", outcome="config"),
    mistake("delito_fuera_del_catalogo", lambda d: project(d, crimes='homicidios = ["HOMICIDIO"]\nrobo = ["ROBO"]'),
      "[incidentes.policia.valores.delito] 'homicidios' no es un tipo de delito del catálogo data/crime_types.csv; "
      "¿quiso decir 'homicidio'?", outcome="config"),
    mistake("sexo_destino_invalido", lambda d: project(d, tail='Masculino = ["MASC"]\n'),
      "[incidentes.policia.valores.sexo] destinos no válidos ['Masculino']", "con destino H (hombre), M (mujer) o ND",
      outcome="config"),
    mistake("formato_fecha_sin_porcentajes", lambda d: project(d, source='formato_fecha = "DD/MM/AAAA"'),
      "[incidentes.policia.formato_fecha] \"DD/MM/AAAA\" no es un formato de fecha (p. ej. \"%d/%m/%Y\" para 25/03/2021",
      outcome="config"),
    mistake("edad_maxima_negativa", lambda d: project(d, source="edad_maxima = -1"),
      "[incidentes.policia.edad_maxima] debe ser un número entero mayor o igual que 1, se encontró -1", outcome="config"),
    mistake("fila_encabezado_cero", lambda d: project(d, source="fila_encabezado = 0"),
      "[incidentes.policia.fila_encabezado] debe ser un número entero mayor o igual que 1, se encontró 0", outcome="config"),
    mistake("codificacion_ansi", lambda d: project(d, source='codificacion = "ANSI"'),
      "[incidentes.policia.codificacion] 'ANSI' no es una codificación conocida", "¿quiso decir \"cp1252\"?",
      outcome="config"),
    mistake("separador_de_dos_caracteres", lambda d: project(d, source='separador = ",;"'),
      "[incidentes.policia.separador] \",;\" no es un separador (un solo carácter)", outcome="config"),
    mistake("nivel_mal_escrito", lambda d: project(d, population='nivel = "municipal"'),
      "[poblacion.nivel] 'municipal' no es válido; use uno de ['municipio', 'departamento'] (¿quiso decir 'municipio'?)",
      outcome="config"),
    mistake("seccion_con_tilde", lambda d: project(d, edit=replace("[poblacion]", "[población]")),
      "no es un TOML válido: línea 18 «[población]»: 'población' lleva tilde o ñ: los nombres de sección y de clave se "
      "escriben sin ellas (¿quiso decir [poblacion]?)", outcome="config"),
    mistake("clave_con_tilde", lambda d: project(d, edit=replace("institucion =", "institución =")),
      "«institución = \"Institución policia\"»: 'institución' lleva tilde o ñ", "(¿quiso decir institucion?)",
      outcome="config"),
    mistake("seccion_en_singular", lambda d: project(d, edit=replace("[geografia.municipios]", "[geografia.municipio]")),
      "[geografia] claves desconocidas ['municipio']; 'municipio': ¿quiso decir 'municipios'?", outcome="config"),
    mistake("pais_escrito_despues_de_una_seccion", lambda d: project(
        d, edit=replace('pais = "HN"\n', ""), tail='\n[alias.municipios]\n"Tegus" = "0101"\npais = "HN"\n'),
      "[raíz] falta la clave obligatoria 'pais'; está escrita dentro de [alias.municipios]",
      "mueva 'pais' al principio del archivo", outcome="config"),
    mistake("falta_pais", lambda d: project(d, edit=replace('pais = "HN"\n', "")),
      "[raíz] falta la clave obligatoria 'pais'", outcome="config"),
    mistake("falta_la_fuente_de_la_poblacion", lambda d: project(d, edit=replace('fuente = "Proyecciones"\n', "")),
      "[poblacion] falta la clave obligatoria 'fuente'", outcome="config"),
    mistake("valores_vacios_sin_corchetes", lambda d: project(d, source='valores_vacios = "N/D"'),
      "[incidentes.policia.valores_vacios] se esperaba una lista, se encontró \"N/D\"; escriba una lista entre "
      "corchetes: valores_vacios = [\"N/D\"]", outcome="config"),
    mistake("constante_de_delito_fuera_del_catalogo", lambda d: aggregate_with(d, 'delito = "asesinato"'),
      "[incidentes.policia.constantes.delito] 'asesinato' no es un tipo de delito del catálogo data/crime_types.csv",
      "(tipos: homicidio, femicidio", outcome="config"),
    mistake("poblacion_sin_anios", lambda d: project(d, edit=replace('anios = { prefijo = "pob_" }\n', "")),
      "[poblacion] declare o bien anios = {prefijo = \"pob_\"}", outcome="config"),
    mistake("archivo_mal_escrito", lambda d: project(d, edit=replace("policia.csv\"]", "polícia.csv\"]")),
      "[incidentes.policia.archivos] el archivo", "polícia.csv no existe", "¿quiso decir policia.csv?", outcome="config"),
    mistake("archivo_es_una_carpeta", lambda d: (d / "datos").mkdir() or write_csv(d / "datos" / "enero.csv", tiny_rows()) and
      project(d, edit=replace(f"{d}/policia.csv", f"{d}/datos")),
      "datos es una carpeta, no un archivo: declare sus archivos uno por uno en archivos = [",
      "(contiene: enero.csv)", outcome="config"),
    mistake("archivo_ruta_relativa_a_la_carpeta_actual", relative_to_cwd,
      "[incidentes.policia.archivos] el archivo", "config/datos/policia.csv no existe",
      "las rutas relativas se leen desde la carpeta del archivo de configuración",
      "relativo a la carpeta desde la que se ejecuta la carga", outcome="config"),
    mistake("archivo_ruta_vacia", lambda d: project(d, source='archivo = ""'),
      "[incidentes.policia.archivo] la ruta está vacía", outcome="config"),
    mistake("archivos_con_numeros", lambda d: project(d, source="archivos = [2021]",
                                                edit=lambda t: t.replace(f'archivos = ["{d}/policia.csv"]\n', "", 1)),
      "[incidentes.policia.archivos] el elemento 1 no es una ruta entre comillas: 2021", outcome="config"),
    mistake("archivo_con_tilde_se_lee_desde_home", in_home, "policia (Institución policia): 8 filas leídas, 8 cargadas",
      outcome="loaded"),
]

FILES = [
    mistake("csv_vacio", lambda d: project(d, data=with_bytes(d, "policia.csv", b"")),
      "incidentes.policia: policia.csv: el archivo está vacío (0 bytes)"),
    mistake("csv_solo_encabezado", lambda d: project(d, rows=[]),
      "incidentes.policia: policia.csv: el archivo no tiene filas de datos (solo el encabezado)"),
    mistake("csv_utf16_declarado", lambda d: project(d, data=utf16_rows(d, "utf-16-le"), source='codificacion = "utf-16"'),
      "policia (Institución policia): 8 filas leídas, 8 cargadas", outcome="loaded"),
    mistake("csv_utf16_detectado", lambda d: project(d, data=utf16_rows(d, "utf-16-le")),
      "8 filas leídas, 8 cargadas, 0 rechazadas", outcome="loaded"),
    mistake("csv_utf16_sin_bom_detectado", lambda d: project(d, data=utf16_rows(d, "utf-16-le", bom=False)),
      "8 filas leídas, 8 cargadas, 0 rechazadas", outcome="loaded"),
    mistake("csv_utf16_declarado_latin1", lambda d: project(d, data=utf16_rows(d, "utf-16-le"), source='codificacion = "latin-1"'),
      "incidentes.policia: excel_unicode.txt: el archivo está en UTF-16", "declare codificacion = \"auto\" o \"utf-16\""),
    mistake("csv_utf8_declarado_utf16", lambda d: project(d, source='codificacion = "utf-16"'),
      "policia.csv: se declaró codificacion = \"utf-16\", pero el archivo no es UTF-16", "declare codificacion = \"auto\""),
    mistake("csv_utf8_declarado_latin1", lambda d: project(d, rows=named_rows(), header=NAME_HEADER, columns=NAME_COLUMNS,
                                                     source='codificacion = "latin-1"'),
      "policia.csv: el archivo está en UTF-8 y se declaró codificacion = \"latin-1\"",
      "(fila 2: 'Cortés' se leería 'CortÃ©s')", "declare codificacion = \"utf-8\""),
    mistake("csv_latin1_declarado_utf8", lambda d: project(d, rows=named_rows(), header=NAME_HEADER, columns=NAME_COLUMNS,
                                                     encoding="latin-1", source='codificacion = "utf-8"'),
      "policia.csv fila 2: el byte 0xe9 no es utf-8 (en «P-1,01/01/2021,Cortés,San Pedro Sula",
      "declare codificacion = \"latin-1\""),
    mistake("csv_texto_ya_mal_codificado", lambda d: project(d, rows=cell(named_rows(), 3, "MUNI", "Santa Rosa de AguÃ¡n",
                                                                    NAME_HEADER), header=NAME_HEADER, columns=NAME_COLUMNS),
      "policia: policia.csv fila 5, columna MUNI: 'Santa Rosa de AguÃ¡n' no coincide con ningún municipio",
      "el texto parece mal codificado en el propio archivo ('Santa Rosa de AguÃ¡n' sería 'Santa Rosa de Aguán')"),
    mistake("csv_comilla_sin_cerrar", lambda d: project(d, data=unclosed_quote(d, 2)),
      "incidentes.policia: policia.csv fila 4, columna FECHA: una comilla (\") abre el campo",
      "no se cierra hasta la línea 9", "las líneas 4 a 9 se leerían como una sola fila"),
    mistake("csv_comilla_sin_cerrar_en_la_ultima_fila", lambda d: project(d, data=unclosed_quote(d, 7)),
      "policia: policia.csv fila 9: la fila tiene 2 campos y el encabezado 6",
      "la columna FECHA tiene una comilla (\") que abre un campo y no se cierra"),
    mistake("csv_comilla_sin_cerrar_en_un_archivo_grande", lambda d: project(d, data=unclosed_quote(d, 2, n=6000)),
      "policia.csv fila 4, columna FECHA: una comilla (\") abre el campo", "no se cierra hasta la línea 6001",
      absent=("field larger than field limit",)),
    mistake("csv_celda_enorme", lambda d: project(d, data=huge_cell(d)), "8 filas leídas, 8 cargadas", outcome="loaded"),
    mistake("csv_separador_equivocado", lambda d: project(d, source='separador = ";"'),
      "policia.csv: falta la columna",
      "columnas del archivo: ['ID,FECHA,COD_MUNI,DELITO,SEXO,EDAD']",
      "el encabezado contiene coma y se leyó con punto y coma: ¿separador equivocado? (pruebe separador = \"auto\" o \",\")"),
    mistake("csv_binario", lambda d: project(d, data=with_bytes(d, "policia.csv", b"PK\x03\x04\x14\x00\x00\x00" * 50)),
      "policia.csv: el archivo tiene bytes nulos: no es un archivo de texto"),
    mistake("csv_columna_repetida", lambda d: project(d, header=["ID", "FECHA", "COD_MUNI", "DELITO", "SEXO", "FECHA"]),
      "policia.csv: columnas repetidas en el encabezado: ['FECHA']"),
    mistake("csv_encabezado_mas_abajo_que_el_archivo", lambda d: project(d, rows=tiny_rows(2), source="fila_encabezado = 9"),
      "policia.csv: el archivo tiene 3 líneas y el encabezado se esperaba en la fila 9"),
    mistake("csv_columna_renombrada", lambda d: project(d, header=["ID", "FECHA_HECHO", "COD_MUNI", "DELITO", "SEXO", "EDAD"]),
      "policia.csv: falta la columna 'FECHA' (fecha del hecho)", "¿quiso decir 'FECHA_HECHO'?"),
    mistake("csv_columna_en_minusculas", lambda d: project(d, header=["ID", "fecha", "COD_MUNI", "DELITO", "SEXO", "EDAD"]),
      "policia.csv: falta la columna 'FECHA'", "la columna se llama 'fecha' (con otras mayúsculas o espacios)"),
    mistake("csv_con_titulos_arriba", lambda d: project(d, data=title_rows(d)),
      "policia.csv: ninguna fila tiene el número de campos del encabezado (fila 1, 1 campo: ['Reporte de denuncias "
      "2021']); la fila 3 tiene 6: si el encabezado está en esa fila (las de arriba son títulos), declare "
      "fila_encabezado = 3"),
    mistake("csv_encabezado_mal_codificado", lambda d: aggregate(d, AGG_ROWS, header=["DEPTO", "AÃ‘O", "N"],
                                                           columns=AGG_COLUMNS.replace('"ANIO"', '"AÑO"')),
      "tabla.csv: falta la columna 'AÑO' (año); columnas del archivo: ['DEPTO', 'AÃ‘O', 'N']",
      "el texto parece mal codificado en el propio archivo ('AÃ‘O' sería 'AÑO')"),
    mistake("csv_linea_de_totales", lambda d: project(d, data=write_csv(d / "policia.csv", tiny_rows(),
                                                                  trailer="Total de registros: 8")),
      "policia: policia.csv fila 10: la fila tiene 1 campos y el encabezado 6", "¿línea de totales o texto al pie?"),
    mistake("xlsx_hoja_equivocada", lambda d: project(d, data=excel_file(d, "Hoja1"), source='hoja = "hoja1 "'),
      "incidentes.policia: policia.xlsx: no existe la hoja 'hoja1 '; hojas del libro: ['Hoja1']",
      "¿quiso decir hoja = \"Hoja1\"?"),
    mistake("xlsx_con_titulos_arriba", lambda d: project(d, data=workbook(d, [["Reporte de denuncias 2021"], []] + [TINY_HEADER]
                                                                        + tiny_rows())),
      "incidentes.policia: policia.xlsx: ninguna fila tiene el número de campos del encabezado (fila 1, 1 campo: "
      "['Reporte de denuncias 2021']); la fila 3 tiene 6", "declare fila_encabezado = 3"),
    mistake("xlsx_codigos_como_numeros", lambda d: project(d, data=workbook(d, [TINY_HEADER] + [
        [r[0], r[1], int(r[2]), r[3], r[4], int(r[5])] for r in tiny_rows()])),
      "policia: policia.xlsx fila 2, columna COD_MUNI: '101' no es un código de municipio de la capa",
      "¿perdió el cero inicial? '101' sería '0101' (una hoja de cálculo lo leyó como número)"),
    mistake("xlsx_que_es_un_csv", lambda d: project(d, data=with_bytes(d, "policia.xlsx", b"ID,FECHA\nP-1,01/01/2021\n")),
      "policia.xlsx: no es un libro de Excel (.xlsx): parece texto separado por coma; cámbiele la extensión a .csv"),
    mistake("xls_antiguo", lambda d: project(d, data=with_bytes(d, "policia.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)),
      "policia.xls: es un libro de Excel 97-2003 (.xls): ábralo en Excel y guárdelo como libro de Excel (.xlsx) o como CSV"),
    mistake("ods", lambda d: project(d, data=with_bytes(d, "policia.ods", b"PK\x03\x04" + b"x" * 100)),
      "policia.ods: formato no reconocido '.ods': es una hoja de cálculo de LibreOffice (.ods): guárdela como libro de "
      "Excel (.xlsx) o como CSV"),
    mistake("json", lambda d: project(d, data=with_bytes(d, "policia.json", b'[{"ID": "P-1"}]')),
      "policia.json: formato no reconocido '.json': es un archivo JSON", "expórtelo como CSV"),
    mistake("extension_desconocida", lambda d: project(d, data=with_bytes(d, "policia.dat", b"ID;FECHA\nP-1;01/01/2021\n")),
      "policia.dat: formato no reconocido '.dat': parece texto separado por punto y coma; cámbiele la extensión a .csv"),
    mistake("parquet_danado", lambda d: project(d, data=with_bytes(d, "policia.parquet", b"no es parquet")),
      "policia.parquet: no se puede leer como Parquet: el archivo está dañado o es de otro formato"),
]


def workbook(d: Path, rows: list[list]) -> Path:
    """A workbook written cell by cell (titles above the header, numbers as numbers)."""
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    path = d / "policia.xlsx"
    book.save(path)
    return path


def excel_file(d: Path, sheet: str) -> Path:
    path = d / "policia.xlsx"
    pd.DataFrame(tiny_rows(), columns=TINY_HEADER).to_excel(path, sheet_name=sheet, index=False)
    return path


ROWS = [
    mistake("fecha_imposible", lambda d: project(d, rows=cell(tiny_rows(), 2, "FECHA", "31/02/2021")),
      "policia: policia.csv fila 4, columna FECHA: '31/02/2021' no es una fecha válida (se esperaba DD/MM/AAAA)"),
    mistake("fecha_vacia", lambda d: project(d, rows=cell(tiny_rows(), 5, "FECHA", "")),
      "policia: policia.csv fila 7, columna FECHA: vacío (se esperaba una fecha DD/MM/AAAA)"),
    mistake("fecha_con_puntos", lambda d: project(d, rows=[[r[0], r[1].replace("/", "."), *r[2:]] for r in tiny_rows()]),
      "policia: policia.csv fila 2, columna FECHA: '01.01.2021' no es una fecha válida (se esperaba DD/MM/AAAA); "
      "con formato_fecha = \"%d.%m.%Y\" se leen (DD.MM.AAAA)"),
    mistake("fecha_con_hora", lambda d: project(d, rows=[[r[0], r[1] + " 14:30", *r[2:]] for r in tiny_rows()]),
      "policia: policia.csv fila 2, columna FECHA: '01/01/2021 14:30' no es una fecha válida (se esperaba DD/MM/AAAA); "
      "con formato_fecha = \"%d/%m/%Y %H:%M\" se leen (DD/MM/AAAA hh:mm)"),
    mistake("fecha_numero_de_serie_de_excel", lambda d: project(d, rows=cell(tiny_rows(), 0, "FECHA", "44197")),
      "policia.csv fila 2, columna FECHA: '44197' no es una fecha válida",
      "parece un número de serie de fecha de Excel (44197 = 2021-01-01)"),
    mistake("fecha_mes_y_dia_invertidos", lambda d: project(d, rows=[["P-1", "03/25/2021", "0101", "ROBO", "M", "30"],
                                                             ["P-2", "04/02/2021", "0102", "ROBO", "M", "31"]]),
      "policia: policia.csv, columna FECHA: formato_fecha declara DD/MM/AAAA, pero 1 valores solo se leen como "
      "MM/DD/AAAA (p. ej. '03/25/2021' (fila 2))", "Declare formato_fecha = \"%m/%d/%Y\""),
    mistake("fecha_fuera_del_periodo", lambda d: project(d, rows=cell(tiny_rows(), 1, "FECHA", "15/06/2019")),
      "policia: policia.csv fila 3, columna FECHA: '15/06/2019' está fuera del periodo declarado (2020-01-01 a 2021-12-31)"),
    mistake("municipio_codigo_desconocido", lambda d: project(d, rows=cell(tiny_rows(), 4, "COD_MUNI", "9999")),
      "policia: policia.csv fila 6, columna COD_MUNI: '9999' no es un código de municipio de la capa (4 caracteres, "
      "p. ej. 0101)", absent=("cero inicial",)),
    mistake("municipio_codigo_sin_cero_inicial", lambda d: project(d, rows=cell(tiny_rows(), 0, "COD_MUNI", "101")),
      "policia: policia.csv fila 2, columna COD_MUNI: '101' no es un código de municipio de la capa",
      "¿perdió el cero inicial? '101' sería '0101'", "declare municipio_codigo = { columna = \"COD_MUNI\", rellenar = 4 }"),
    mistake("municipio_codigo_con_sufijo", lambda d: project(d, rows=cell(tiny_rows(), 0, "COD_MUNI", "010100")),
      "fila 2, columna COD_MUNI: '010100' no es un código de municipio",
      "sus primeros 4 caracteres ('0101') son un código de la capa: declare municipio_codigo = { columna = \"COD_MUNI\", fin = 4 }"),
    mistake("municipio_nombre_desconocido", lambda d: project(d, rows=cell(named_rows(), 0, "MUNI", "San Pedro Zula", NAME_HEADER),
                                                        header=NAME_HEADER, columns=NAME_COLUMNS),
      "policia: policia.csv fila 2, columna MUNI: 'San Pedro Zula' no coincide con ningún municipio en el departamento "
      "Cortés; ¿quiso decir 'San Pedro Sula'", "(puede declarar un alias en [alias.municipios])"),
    mistake("departamento_desconocido", lambda d: project(d, rows=cell(named_rows(), 2, "DEPTO", "Colonia", NAME_HEADER),
                                                    header=NAME_HEADER, columns=NAME_COLUMNS),
      "policia: policia.csv fila 4, columna DEPTO: 'Colonia' no es un departamento de la capa; ¿quiso decir 'Colón'",
      "(departamentos: Colón, Cortés; puede declarar un alias en [alias.departamentos])"),
    mistake("delito_desconocido", lambda d: project(d, rows=cell(tiny_rows(), 3, "DELITO", "HOMICIDO")),
      "policia: policia.csv fila 5, columna DELITO: 'HOMICIDO' no está en el mapa de tipos de delito "
      "[incidentes.policia.valores.delito] (grafías declaradas: 'HOMICIDIO', 'ROBO'); ¿quiso decir 'HOMICIDIO' (homicidio)?",
      "[incidentes.policia.seleccion]"),
    mistake("delito_vacio", lambda d: project(d, rows=cell(tiny_rows(), 3, "DELITO", "")),
      "policia: policia.csv fila 5, columna DELITO: vacío (se esperaba el tipo de delito)"),
    mistake("id_repetido", lambda d: project(d, rows=cell(tiny_rows(), 6, "ID", "P-2")),
      "policia: policia.csv fila 8, columna ID: 'P-2' está repetido (ya aparece en policia.csv fila 3)"),
    mistake("id_repetido_entre_archivos", two_files_same_id,
      "policia: febrero.csv fila 2, columna ID: 'P-3' está repetido (ya aparece en enero.csv fila 4)"),
    mistake("edad_en_texto", lambda d: project(d, rows=cell(tiny_rows(), 2, "EDAD", "treinta")),
      "policia: policia.csv fila 4, columna EDAD: 'treinta' no es una edad válida (se esperaba un entero de 0 a 110 años): "
      "se registra sin dato", outcome="loaded"),
    mistake("edad_negativa", lambda d: project(d, rows=cell(tiny_rows(), 2, "EDAD", "-4")),
      "policia: policia.csv fila 4, columna EDAD: '-4' no es una edad válida", outcome="loaded"),
    mistake("edad_decimal", lambda d: project(d, rows=cell(tiny_rows(), 2, "EDAD", "30.5")),
      "policia: policia.csv fila 4, columna EDAD: '30.5' no es una edad válida (se esperaba un entero", outcome="loaded"),
    mistake("sexo_desconocido", lambda d: project(d, rows=cell(tiny_rows(), 2, "SEXO", "Señora")),
      "policia: policia.csv fila 4, columna SEXO: 'Señora' no es un sexo reconocido", outcome="loaded"),
    mistake("coordenadas_invertidas", lambda d: project(d, rows=[r[:6] + [r[7], r[6]] if i == 1 else r
                                                           for i, r in enumerate(xy_rows())],
                                                  header=XY_HEADER, columns=XY_COLUMNS),
      "policia: policia.csv fila 3, columna LON/LAT: '15.5, -87.25' está fuera del país",
      "dentro al intercambiarlas: la longitud y la latitud están invertidas", outcome="loaded"),
    mistake("coordenadas_fuera_del_pais", lambda d: project(d, rows=cell(xy_rows(), 1, "LON", "87.25", XY_HEADER),
                                                      header=XY_HEADER, columns=XY_COLUMNS),
      "policia: policia.csv fila 3, columna LON/LAT: '87.25, 15.5' está fuera del país (longitud -88.25 a -85.75",
      "falta el signo menos?", outcome="loaded"),
    mistake("coordenadas_ilegibles", lambda d: project(d, rows=cell(xy_rows(), 1, "LON", "87°15'O", XY_HEADER),
                                                 header=XY_HEADER, columns=XY_COLUMNS),
      "policia: policia.csv fila 3, columna LON: '87°15'O 15.5' no son coordenadas legibles (se esperaban longitud y "
      "latitud en grados decimales)", outcome="loaded"),
    mistake("hora_invalida", lambda d: project(d, rows=[r + ["25:00" if i == 0 else "10:00"] for i, r in enumerate(tiny_rows())],
                                         header=TINY_HEADER + ["HORA"], columns=TINY_COLUMNS + '\nhora = "HORA"'),
      "policia: policia.csv fila 2, columna HORA: '25:00' no es una hora válida (se esperaba 0 a 23 o hh:mm)",
      outcome="loaded"),
    mistake("cantidad_negativa", lambda d: aggregate(d, AGG_ROWS + [["Colón", "2020", "-3"]]),
      "policia: tabla.csv fila 5, columna N: '-3' no es un número entero mayor o igual que 0"),
    mistake("cantidad_decimal", lambda d: aggregate(d, AGG_ROWS + [["Colón", "2020", "2.5"]]),
      "policia: tabla.csv fila 5, columna N: '2.5' no es un número entero mayor o igual que 0"),
    mistake("cantidad_en_texto", lambda d: aggregate(d, AGG_ROWS + [["Colón", "2020", "muchos"]]),
      "policia: tabla.csv fila 5, columna N: 'muchos' no es un número entero mayor o igual que 0 (cantidad (victimas); "
      "se esperaba p. ej. 0, 3 o 1,204)"),
    mistake("anio_en_texto", lambda d: aggregate(d, AGG_ROWS + [["Colón", "dos mil veinte", "3"]]),
      "policia: tabla.csv fila 5, columna ANIO: 'dos mil veinte' no es un año (se esperaba un número de cuatro cifras"),
    mistake("mes_invalido", lambda d: monthly(d, [["Cortés", "2021", "enero", "3"], ["Colón", "2021", "trece", "2"]]),
      "policia: tabla.csv fila 3, columna MES: 'trece' no es un mes (se esperaba 1 a 12 o el nombre del mes"),
]

POPULATION = [
    mistake("poblacion_negativa", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n0101,1000,-500\n0102,2000,2100\n0201,3000,3100\n0202,4000,4100\n")),
      "poblacion: pob.csv fila 2, columna pob_2021: '-500' no es una población válida (se esperaba un número entero de "
      "habitantes mayor o igual que 0", "poblacion: faltan 2 combinaciones municipio × año",
      "p. ej. 0101 San Pedro Sula en 2020; 1 filas del archivo se rechazaron y pueden ser la causa, p. ej. poblacion: "
      "pob.csv fila 2, columna pob_2021: '-500'", absent=("declare completar_anios",)),
    mistake("poblacion_sin_dato", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n0101,1000,1100\n0102,2000,2100\n0201,n/d,3100\n0202,4000,4100\n")),
      "poblacion: pob.csv fila 4, columna pob_2020: 'n/d' no es una población válida", "faltan 2 combinaciones",
      "p. ej. 0201 Trujillo en 2020"),
    mistake("poblacion_decimal", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n0101,1000.5,1100\n0102,2000,2100\n0201,3000,3100\n0202,4000,4100\n")),
      "poblacion: pob.csv fila 2, columna pob_2020: '1000.5' no es una población válida (se esperaba un número entero"),
    mistake("poblacion_falta_un_anio", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020\n0101,1000\n0102,2000\n0201,3000\n0202,4000\n")),
      "poblacion: faltan 4 combinaciones municipio × año del periodo declarado (2020-2021); por año: 2021: 4 municipios",
      "el archivo tiene los años 2020: declare completar_anios = \"anio_mas_cercano\" o \"interpolacion_lineal\""),
    mistake("poblacion_duplicada_con_otro_valor", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n0101,1000,1100\n0102,2000,2100\n0201,3000,3100\n0202,4000,4100\n"
           "0101,1200,1100\n")),
      "poblacion: 1 combinaciones territorio × año tienen dos o más poblaciones distintas",
      "0101 en 2020: pob.csv fila 2, columna pob_2020: 1,000; pob.csv fila 6, columna pob_2020: 1,200"),
    mistake("poblacion_codigo_desconocido", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n0101,1000,1100\n0102,2000,2100\n0201,3000,3100\n0202,4000,4100\n"
           "0303,10,10\n")),
      "poblacion: pob.csv fila 6, columna cod_municipio: '0303' no es un código de la capa de municipios (4 caracteres"),
    mistake("poblacion_codigo_sin_cero_inicial", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n101,1000,1100\n102,2000,2100\n201,3000,3100\n202,4000,4100\n")),
      "poblacion: pob.csv fila 2, columna cod_municipio: '101' no es un código de la capa de municipios",
      "¿perdió el cero inicial? '101' sería '0101'", "declare codigo = { columna = \"cod_municipio\", rellenar = 4 }"),
    mistake("poblacion_falta_un_municipio", lambda d: project(d, edit=population_file(
        d, "cod_municipio,pob_2020,pob_2021\n0101,1000,1100\n0102,2000,2100\n0201,3000,3100\n")),
      "poblacion: faltan 2 combinaciones municipio × año", "p. ej. 0202 Santa Rosa de Aguán en 2020"),
    mistake("poblacion_columna_de_codigo_inexistente", lambda d: project(d, edit=replace('codigo = "cod_municipio"',
                                                                                    'codigo = "COD_MUNICIPIO"')),
      "poblacion: poblacion.csv: falta la columna 'COD_MUNICIPIO' (código del territorio)",
      "la columna se llama 'cod_municipio'"),
    mistake("poblacion_prefijo_equivocado", lambda d: project(d, edit=replace('prefijo = "pob_"', 'prefijo = "poblacion_"')),
      "poblacion: poblacion.csv: no hay columnas de año con el prefijo 'poblacion_' (p. ej. poblacion_2020)"),
    mistake("poblacion_larga_anio_en_texto", lambda d: project(d, edit=lambda t: population_file(
        d, "codigo,anio,valor\n0101,2020,1000\n0101,2021,1100\n0102,2020,2000\n0102,2021,2100\n0201,2020,3000\n"
           "0201,2021,3100\n0202,2020,4000\n0202,dos mil veintiuno,4100\n")(t).replace(
        'codigo = "cod_municipio"\nanios = { prefijo = "pob_" }', 'codigo = "codigo"\nanio = "anio"\nvalor = "valor"')),
      "poblacion: pob.csv fila 9, columna anio: 'dos mil veintiuno' no es un año (se esperaba un número de cuatro cifras"),
]

GEOGRAPHY = [
    mistake("capa_sin_la_columna_de_codigo", lambda d: project(d, edit=replace('codigo = "COD_DEPT"', 'codigo = "COD_DEPTO"')),
      "geografia: departamentos.geojson: falta la columna 'COD_DEPTO' (declarada en codigo) en la capa de departamentos; "
      "columnas de la capa: ['COD_DEPT', 'NOMBRE']; ¿quiso decir 'COD_DEPT'?"),
    mistake("capa_proyectada_sin_sistema_de_coordenadas", lambda d: project(d, municipalities=utm_features()),
      "geografia: municipios.geojson: la capa dice estar en grados", "pero sus coordenadas no lo son (x de",
      "expórtela con su sistema de coordenadas o en WGS84 (EPSG:4326)"),
    mistake("shapefile_sin_prj", lambda d: project(d, edit=replace(f"{d}/municipios.geojson", str(shapefile_without_prj(d)))),
      "geografia: municipios_utm.shp: la capa no declara su sistema de coordenadas y sus coordenadas no son grados",
      "(el archivo .prj de un Shapefile)"),
    mistake("capa_proyectada_con_su_sistema", lambda d: project(d, edit=lambda t: t.replace(
        f"{d}/municipios.geojson", str(write_geojson(d / "utm.geojson", utm_features(), crs="EPSG:32616")))),
      "geografia · municipio_reproyectado: 4 — utm.geojson: capa en EPSG:32616, convertida a WGS84 (EPSG:4326)",
      outcome="loaded"),
    mistake("poligono_en_pajarita", lambda d: project(d, municipalities=tiny_municipality_features(
        m0101=[[[-88.0, 15.0], [-87.5, 16.0], [-87.5, 15.0], [-88.0, 16.0], [-88.0, 15.0]]])),
      "[aviso] geografia · municipio_geometria_invalida_reparada: 1 — municipios.geojson: 0101 San Pedro Sula "
      "(el límite se corta a sí mismo en (-87.75, 15.5); área 0 -> 0.25 grados²): reparadas con make_valid",
      outcome="loaded"),
    mistake("capa_con_codigos_repetidos", lambda d: project(d, municipalities=[
        ({"GEOCODIGO": "010100" if p["GEOCODIGO"] == "010200" else p["GEOCODIGO"], "NOMBRE": p["NOMBRE"]}, r)
        for p, r in tiny_municipality_features()]),
      "geografia: municipios.geojson: códigos de municipios repetidos tras aplicar (columna GEOCODIGO, caracteres 1 a 4): "
      "['0101']"),
    mistake("municipio_sin_departamento", lambda d: project(d, municipalities=tiny_municipality_features() + [
        ({"GEOCODIGO": "030100", "NOMBRE": "Huérfano"}, square(-85.0, 15.0, 0.5))]),
      "geografia: municipios.geojson: municipios cuyo departamento (columna GEOCODIGO, caracteres 1 a 2) no existe en "
      "departamentos.geojson: ['03']"),
    mistake("municipios_como_puntos", lambda d: project(d, edit=lambda t: t.replace(f"{d}/municipios.geojson", str(
        points_layer(d)))),
      "geografia: puntos.geojson: la capa de municipios tiene geometrías de tipo ['Point']; se esperaban polígonos"),
    mistake("municipio_sin_geometria", lambda d: project(d, municipalities=tiny_municipality_features(m0202=None)),
      "geografia: municipios.geojson: municipios sin geometría: ['0202']"),
    mistake("capa_que_es_un_csv", lambda d: project(d, edit=replace(f"{d}/municipios.geojson", f"{d}/poblacion.csv")),
      "geografia: poblacion.csv: no tiene geometrías: es una tabla, no una capa geográfica (GeoJSON, TopoJSON, "
      "Shapefile o GeoPackage)"),
    mistake("geopackage_capa_inexistente", lambda d: project(d, edit=lambda t: t.replace(
        f'archivo = "{d}/municipios.geojson"', f'archivo = "{gpkg(d)}"\ncapa = "municipios"')),
      "geografia: limites.gpkg: no existe la capa 'municipios'; capas del archivo: ['municipios_2020']"),
]


def points_layer(d: Path) -> Path:
    frame = gpd.GeoDataFrame([p for p, _ in tiny_municipality_features()],
                             geometry=[shapely.Point(-87.75 + 0.5 * i, 15.5) for i in range(4)], crs="EPSG:4326")
    path = d / "puntos.geojson"
    frame.to_file(path)
    return path


OTHER_INPUTS = [
    mistake("centro_educativo_repetido", lambda d: schools(d, [["C-1", "Escuela Uno", "0101"], ["C-2", "Escuela Dos", "0102"],
                                                         ["C-1", "Escuela Tres", "0201"]]),
      "centros_educativos: centros.csv fila 4, columna CODIGO: 'C-1' está repetido (ya aparece en centros.csv fila 2"),
    mistake("centro_educativo_municipio_sin_cero", lambda d: schools(d, [["C-1", "Escuela Uno", "101"]]),
      "centros_educativos: centros.csv fila 2, columna MUNI: '101' no es un código de municipio de la capa",
      "¿perdió el cero inicial?"),
    mistake("indicador_no_numerico", lambda d: indicators(d, [["0101", "12.5"], ["0102", "s.d.x"], ["0201", "3"], ["0202", "4"]]),
      "indicadores: indicadores.csv fila 3, columna POBREZA: 's.d.x' no es un número (se esperaba p. ej. 12.5 o 12,5)",
      outcome="loaded"),
    mistake("indicador_encabezado_de_departamento_desconocido", lambda d: indicators(
        d, [["01-CORTES", ""], ["San Pedro Sula", "1"], ["Puerto Cortés", "2"], ["02-COLONIA", ""], ["Trujillo", "3"],
            ["Santa Rosa de Aguán", "4"]], extra='encabezado_departamento = "^\\\\d+-(?P<nombre>.+)$"'),
      "indicadores: indicadores.csv: encabezados de departamento que no coinciden con la capa: fila 5, columna MUNI: "
      "'COLONIA' no es un departamento de la capa; ¿quiso decir 'Colón'"),
]

CASES = CONFIG_FILE + CONFIG_KEYS + FILES + ROWS + POPULATION + GEOGRAPHY + OTHER_INPUTS


def test_the_table_is_large_and_each_case_is_named_once():
    ids = [c.id for c in CASES]
    assert len(ids) >= 65 and len(set(ids)) == len(ids)
    assert set(CLI_CASES) <= set(ids)


def attempt(config: Path, published: Path, outcome: str) -> tuple[str, str, list[str]]:
    """(outcome, what the user reads, the separate problems) of one load."""
    try:
        report = run(config, published, check=outcome == "loaded")
    except ConfigError as exc:
        return "config", str(exc), exc.problems
    except LoadFailed as exc:
        return "failed", exc.report.render(), exc.report.errors
    return "loaded", report.render(), report.errors


@pytest.fixture()
def case_dir(tmp_path, monkeypatch):
    """The case's folder, also HOME and the folder the load runs from (cases about ~ and relative paths)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_mistake_gets_one_clear_message_and_the_published_warehouse_is_untouched(case, case_dir):
    config = case.write(case_dir)
    published = case_dir / "publicado" / "warehouse.duckdb"
    published.parent.mkdir()
    published.write_bytes(PUBLISHED)
    outcome, message, problems = attempt(config, published, case.outcome)
    assert outcome == case.outcome, message
    for fragment in case.expect:
        assert fragment in message, f"\n{fragment!r}\nno está en:\n{message}"
    for fragment in case.absent:
        assert fragment not in message, message
    assert published.read_bytes() == PUBLISHED
    assert not list(published.parent.glob("*.tmp"))
    if outcome == "config":
        # one mistake, one message
        assert len(problems) == 1, problems


# Through `atalaya-load build`, as the technician runs it: the same message on the terminal, exit code != 0.
CLI_CASES = ["config_vacia", "toml_texto_sin_comillas", "csv_comilla_sin_cerrar", "csv_utf8_declarado_latin1",
             "poblacion_negativa", "fecha_imposible", "codigo_fin_texto"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in CLI_CASES], ids=[c.id for c in CASES if c.id in CLI_CASES])
def test_the_command_prints_the_message_and_no_python_error(case, case_dir, capsys):
    config = case.write(case_dir)
    published = case_dir / "warehouse.duckdb"
    published.write_bytes(PUBLISHED)
    code = cli.main(["build", str(config), "--out", str(published)])
    err = capsys.readouterr().err
    assert code != 0
    assert all(fragment in err for fragment in case.expect), err
    assert "Traceback" not in err and "Error:" not in err.replace("ERROR:", "")
    assert published.read_bytes() == PUBLISHED


def test_an_unexpected_python_error_is_said_in_spanish_without_a_traceback(case_dir, capsys, monkeypatch):
    """The last safety net: a defect of the loader itself still gives one line, and keeps the warehouse."""
    from core.load import population

    config = project(case_dir)
    published = case_dir / "warehouse.duckdb"
    published.write_bytes(PUBLISHED)
    monkeypatch.setattr(population, "load", lambda *a, **k: {}["falla"])
    assert cli.main(["build", str(config), "--out", str(published)]) == 1
    err = capsys.readouterr().err
    assert f"ERROR: la carga falló y {published} no se modificó: error inesperado del cargador (KeyError: 'falla')" in err
    assert "Traceback" not in err
    assert published.read_bytes() == PUBLISHED
