"""The embedded demo: real geography, plausible synthetic data, deterministic for a seed."""

import numpy as np
import pytest
import shapely

from core import warehouse
from core.load.demo import RECONCILIATION, build_demo


def q(sql, params=None):
    return warehouse.query(sql, params)


def one(sql, params=None):
    return warehouse.scalar(sql, params)


def test_geography_is_the_real_guatemala(demo):
    levels = dict(q("SELECT level, count(*) AS n FROM territory GROUP BY level").values)
    assert levels["departamento"] == 22
    assert levels["municipio"] == 340
    assert one("SELECT count(*) FROM territory WHERE code IN ('0000', '4000', '0')") == 0
    assert one("SELECT name FROM territory WHERE code = '1802'") == "Livingston"
    assert one("SELECT name FROM territory WHERE code = '0101'") == "Guatemala"
    # Guatemala is ~108,900 km2
    assert 100_000 < one("SELECT sum(area_km2) FROM territory WHERE level = 'municipio'") < 115_000
    # several aldeas in every municipality, each inside its municipality
    per_muni = q("SELECT parent_code, count(*) AS n FROM territory WHERE level = 'aldea' GROUP BY 1")
    assert len(per_muni) == 340 and per_muni["n"].min() >= 4
    geoms = q("SELECT t.code, t.parent_code, t.centroid_lon, t.centroid_lat, g.wkb FROM territory t "
              "JOIN territory_geometry g ON g.code = t.parent_code WHERE t.level = 'aldea'")
    munis = shapely.from_wkb([bytes(b) for b in geoms["wkb"]])
    assert shapely.contains_xy(munis, geoms["centroid_lon"], geoms["centroid_lat"]).all()


def test_display_layer_is_light_and_rounded(demo):
    shapes = q("SELECT geojson FROM territory WHERE level = 'municipio'")["geojson"]
    geoms = [shapely.from_geojson(g) for g in shapes]
    assert shapely.get_num_coordinates(np.array(geoms)).sum() < 10_000
    coords = np.concatenate([shapely.get_coordinates(g) for g in geoms])
    assert np.allclose(coords, np.round(coords, 4))
    assert all(not g.is_empty for g in geoms)
    # full geometry is kept, finer than the display copy
    full = shapely.from_wkb([bytes(b) for b in q("SELECT wkb FROM territory_geometry WHERE length(code) = 4")["wkb"]])
    assert shapely.get_num_coordinates(full).sum() > 50_000
    assert ":" in shapes.iloc[0] and ", " not in shapes.iloc[0]  # compact JSON


def test_aggregates_add_up_to_the_records_and_rows_are_in_municipality_order(demo):
    # the yearly and aldea cubes and the source-month table are exact regroupings of the records
    by_year = q("SELECT muni_code, year(occurred_on) AS year, crime_type, victim_sex, age_group, source, counted, "
                "count(*) AS n FROM incident GROUP BY ALL EXCEPT SELECT muni_code, year, crime_type, victim_sex, "
                "age_group, source, counted, n FROM incident_year_cube")
    assert by_year.empty
    by_source = q("SELECT source, muni_code, date_trunc('month', occurred_on)::DATE AS month, count(*) AS n "
                  "FROM incident GROUP BY ALL EXCEPT SELECT source, muni_code, month, n FROM source_month")
    assert by_source.empty
    by_aldea = q("SELECT muni_code, aldea_code, year(occurred_on) AS year, crime_type, victim_sex, age_group, counted, "
                 "count(*) AS n FROM incident GROUP BY ALL EXCEPT SELECT muni_code, aldea_code, year, crime_type, "
                 "victim_sex, age_group, counted, n FROM incident_aldea_cube")
    assert by_aldea.empty
    # the source comparison table is the cube of the reconciled types, row for row
    types = q("SELECT value FROM meta WHERE key = 'reconciliation_types'")["value"].iloc[0].split(",")
    assert sorted(types) == sorted(q("SELECT crime_type FROM reconciliation_rule")["crime_type"]) \
        == sorted(t for r in RECONCILIATION for t in r.crime_types)
    assert q("SELECT * FROM incident_cube WHERE list_contains(?, crime_type) EXCEPT ALL SELECT * FROM reconciliation_cube",
             [types]).empty
    assert one("SELECT count(*) FROM reconciliation_cube") == one(
        "SELECT count(*) FROM incident_cube WHERE list_contains(?, crime_type)", [types]) > 0
    # the demo has victim records only: one unit, no counts outside incident
    assert q("SELECT DISTINCT unit FROM incident_year_cube")["unit"].tolist() == ["victimas"]
    assert one("SELECT count(*) FROM incident_aggregate") == 0
    assert one("SELECT sum(n) FROM incident_year_cube") == one("SELECT sum(n) FROM source_month") \
        == one("SELECT sum(n) FROM incident_aldea_cube") == one("SELECT count(*) FROM incident")
    # every municipality's records are contiguous (DuckDB then reads only its row groups)
    changes = one("SELECT count(*) FROM (SELECT muni_code <> lag(muni_code) OVER (ORDER BY rowid) AS changed "
                  "FROM incident) WHERE changed")
    assert changes == one("SELECT count(DISTINCT muni_code) FROM incident") - 1


def test_incident_volume_and_content(demo):
    n = one("SELECT count(*) FROM incident")
    assert 800_000 <= n <= 1_000_000
    assert one("SELECT sum(n) FROM incident_cube") == n
    types = q("SELECT code, iccs_code, iccs_section FROM crime_type")
    assert len(types) >= 15
    assert types["iccs_code"].str.match(r"^\d{4,6}$").all()
    assert (types["iccs_code"].str[:2] == types["iccs_section"]).all()
    assert one("SELECT count(DISTINCT crime_type) FROM incident") == len(types)
    assert one("SELECT min(occurred_on) FROM incident").isoformat() >= "2013-01-01"
    assert one("SELECT max(occurred_on) FROM incident").isoformat() <= "2022-12-31"
    assert one("SELECT count(DISTINCT year(occurred_on)) FROM incident") == 10
    assert one("SELECT count(*) FROM incident i LEFT JOIN territory t ON t.code = i.muni_code "
               "AND t.level = 'municipio' WHERE t.code IS NULL") == 0
    assert one("SELECT count(*) FROM incident WHERE aldea_code IS NOT NULL AND substr(aldea_code, 1, 4) <> muni_code") == 0
    assert one("SELECT count(*) FROM incident WHERE dept_code <> substr(muni_code, 1, 2)") == 0
    assert one("SELECT meta.value FROM meta WHERE key = 'synthetic'") == "true"


def test_geocoded_incidents_fall_inside_their_municipality(demo):
    sample = q("SELECT i.lon, i.lat, g.wkb FROM incident i JOIN territory_geometry g ON g.code = i.muni_code "
               "WHERE i.lon IS NOT NULL AND i.incident_id % 97 = 0")
    assert len(sample) > 3000
    inside = shapely.contains_xy(shapely.from_wkb([bytes(b) for b in sample["wkb"]]), sample["lon"], sample["lat"])
    assert inside.mean() > 0.999


def test_each_crime_recorded_by_several_institutions_counts_by_its_rule(demo):
    by_source = dict(q("SELECT source, count(*) FROM incident WHERE crime_type = 'homicidio' GROUP BY 1").values)
    assert set(by_source) == {"pnc", "mp", "inacif"}
    assert len(set(by_source.values())) == 3  # overlapping but not identical counts
    # every crime some institution records besides the reference has a rule
    several = set(q("SELECT crime_type FROM incident GROUP BY 1 HAVING count(DISTINCT source) > 1")["crime_type"])
    assert several == set(q("SELECT crime_type FROM reconciliation_rule")["crime_type"])
    counted = q("SELECT i.crime_type, i.source, r.rule, r.reference, bool_and(counted) AS all_counted, "
                "bool_or(counted) AS any_counted FROM incident i LEFT JOIN reconciliation_rule r USING (crime_type) "
                "GROUP BY ALL")
    reference = counted[counted["rule"] == "referencia"]
    assert (reference["all_counted"] == (reference["source"] == reference["reference"])).all()
    assert (reference["any_counted"] == reference["all_counted"]).all()
    assert counted[counted["rule"].isna()]["all_counted"].all()  # recorded by one institution only
    # injuries: per municipality and month, exactly the source with the most records counts
    per_month = q("""SELECT muni_code, date_trunc('month', occurred_on) AS m, source, count(*) AS n,
                            bool_and(counted) AS c, bool_or(counted) AS any_c
                     FROM incident WHERE crime_type = 'lesiones' GROUP BY ALL""")
    assert (per_month["c"] == per_month["any_c"]).all()
    top = per_month.groupby(["muni_code", "m"])
    assert (top["c"].sum() == 1).all()
    winners = per_month[per_month["c"]].set_index(["muni_code", "m"])["n"].sort_index()
    assert (winners == top["n"].max().sort_index()).all()
    assert one("SELECT value FROM meta WHERE key = 'counting_rule'").count("cuenta la fuente de referencia") == 3


def test_the_demo_passed_the_data_tests_before_publishing(demo):
    from core.load.datatests import TESTS
    assert sorted(q("SELECT name FROM data_test")["name"]) == sorted(t.name for t in TESTS)
    assert one("SELECT min(rows_checked) FROM data_test") > 0


def test_population_and_rates_are_plausible(demo):
    national = dict(q("SELECT p.year, sum(population) FROM population p JOIN territory t ON t.code = p.code "
                      "AND t.level = 'municipio' GROUP BY 1").values)
    assert sorted(national) == list(range(2013, 2023))
    assert 14e6 < national[2013] < national[2022] < 19e6
    aldeas = one("SELECT sum(population) FROM population p JOIN territory t ON t.code = p.code "
                 "AND t.level = 'aldea' WHERE year = 2018")
    assert aldeas == pytest.approx(national[2018], rel=0.001)
    hom = dict(q("SELECT year, sum(n) FROM incident_cube WHERE crime_type = 'homicidio' AND counted GROUP BY 1").values)
    rate_2013 = hom[2013] / national[2013] * 1e5
    assert 10 < rate_2013 < 60
    assert hom[2022] < hom[2013]  # falling trend


def test_victim_profiles(demo):
    prof = q("SELECT crime_type, avg((victim_sex = 'M')::INT) AS women, avg(victim_age) AS age "
             "FROM incident WHERE victim_sex <> 'ND' GROUP BY 1").set_index("crime_type")
    assert prof.loc["femicidio", "women"] == 1.0
    assert prof.loc["homicidio", "women"] < 0.2
    assert prof.loc["violacion", "women"] > 0.8
    assert prof.loc["violacion", "age"] < prof.loc["extorsion", "age"]
    night = one("SELECT avg((occurred_hour >= 18 OR occurred_hour < 6)::INT) FROM incident "
                "WHERE crime_type = 'homicidio' AND occurred_hour IS NOT NULL")
    assert night > 0.6
    assert one("SELECT count(*) FROM incident WHERE crime_type = 'narcomenudeo' AND victim_sex <> 'ND'") == 0


def test_schools_and_indicators(demo):
    assert 3_500 <= one("SELECT count(*) FROM school") <= 4_500
    assert one("SELECT count(*) FROM school WHERE lon IS NULL") == 0
    assert set(q("SELECT DISTINCT level FROM school")["level"]) == {"Preprimaria", "Primaria", "Básico", "Diversificado"}
    ind = q("SELECT indicator, count(*) AS n FROM indicator GROUP BY 1")
    assert len(ind) == 5 and (ind["n"] == 340).all()
    assert one("SELECT count(*) FROM indicator_meta") == 5
    # vulnerability is correlated with lethal violence
    corr = one("""
        WITH h AS (SELECT muni_code, sum(n) AS n FROM incident_cube WHERE crime_type = 'homicidio' AND counted GROUP BY 1),
             p AS (SELECT code, sum(population) AS pop FROM population GROUP BY 1)
        SELECT corr(i.value, h.n / p.pop) FROM indicator i JOIN h ON h.muni_code = i.code JOIN p ON p.code = i.code
        WHERE i.indicator = 'desercion_escolar'""")
    assert corr > 0.2


def _fingerprint(path):
    import duckdb
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for table in ("territory", "population", "incident", "incident_cube", "school", "indicator", "source"):
        out[table] = con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {table}").fetchall()
    out["meta"] = con.execute("SELECT key, value FROM meta WHERE key NOT IN ('built_at', 'build_id') ORDER BY key").fetchall()
    con.close()
    return out


def test_demo_is_deterministic_for_a_seed(tmp_path):
    a = build_demo(tmp_path / "a.duckdb", seed=7, scale=0.03, progress=None)
    b = build_demo(tmp_path / "b.duckdb", seed=7, scale=0.03, progress=None)
    build_demo(tmp_path / "c.duckdb", seed=8, scale=0.03, progress=None)
    assert a == b
    fa, fb, fc = (_fingerprint(tmp_path / f"{x}.duckdb") for x in "abc")
    assert fa == fb
    assert fa["incident"] != fc["incident"]
    assert 20_000 < a["incident"] < 32_000  # scale 0.03 of ~890k


def test_build_prints_progress(tmp_path):
    lines = []
    build_demo(tmp_path / "p.duckdb", seed=1, scale=0.01, progress=lines.append)
    assert any("Geografía" in line for line in lines)
    assert sum("Incidentes" in line for line in lines) == 10
    assert lines[-1].startswith("[") and "Publicado" in lines[-1]


def test_school_exposure_matches_brute_force_haversine(demo):
    picked = warehouse.query("SELECT school_code, lon, lat FROM school ORDER BY school_code LIMIT 400")
    picked = picked[picked.index % 40 == 0]  # 10 schools across the country
    inc = warehouse.query("""
        SELECT i.lon, i.lat, t.crime_group, i.victim_age FROM incident i JOIN crime_type t ON t.code = i.crime_type
        WHERE i.counted AND i.lon IS NOT NULL AND year(i.occurred_on) = 2020""")
    stored = warehouse.query("SELECT * FROM school_exposure WHERE year = 2020")
    lon2, lat2 = np.radians(inc["lon"].to_numpy()), np.radians(inc["lat"].to_numpy())
    checked = 0
    for school in picked.itertuples():
        lon1, lat1 = np.radians(school.lon), np.radians(school.lat)
        a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        d = 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))
        for radius in (100, 500, 1000):
            near = inc[d <= radius]
            expected = near.groupby("crime_group").size().to_dict()
            got = stored[(stored["school_code"] == school.school_code) & (stored["radius_m"] == radius)]
            assert dict(zip(got["crime_group"], got["victims"])) == expected
            youth = int(near["victim_age"].between(10, 19).sum())
            assert int(got["victims_10_19"].sum()) == youth
            checked += len(near)
    assert checked > 0
