"""Every headline figure of every page, recomputed by hand from the warehouse's raw tables.

A seeded random fixture (about 2,000 victims in three municipalities, 2019 to August 2021, so
2021 is a partial year; the police sent nothing in June 2020 and the forensic institute never
covers Gamma) is built once. Each test reads the raw ``incident``, ``population``,
``territory``, ``school`` and ``indicator`` tables with plain pandas, recomputes what a page
shows with nothing but arithmetic, and checks that the core functions the page calls return the
same numbers (internal mode: every figure is shown).
"""
from __future__ import annotations

import math
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import nbinom
from statsmodels.stats.multitest import multipletests

from core import alerts, bulletin, fmt, municipality, opendata, priority, quality, rates, reports, schools, vaw, vulnerability
from core.filters import SEX_LABELS, Filters
from tests import fixture_warehouse

PERIOD = fixture_warehouse.RANDOM_PERIOD
COVERAGE = {2019: 1.0, 2020: 1.0, 2021: 8 / 12}
LETHAL = ("homicidio", "femicidio")
EARTH_RADIUS_M = 6_371_008.8


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = fixture_warehouse.build_random(tmp_path_factory.mktemp("hand") / "w.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    try:
        raw = {t: con.execute(f"SELECT * FROM {t}").df()
               for t in ("incident", "population", "territory", "crime_type", "school", "indicator", "indicator_meta",
                         "age_group", "source")}
    finally:
        con.close()
    inc = raw["incident"].merge(raw["crime_type"][["code", "crime_group"]], left_on="crime_type", right_on="code")
    inc["date"] = pd.to_datetime(inc["occurred_on"])
    inc["year"] = inc["date"].dt.year
    inc["month"] = inc["date"].dt.to_period("M").dt.to_timestamp()
    raw["all"] = inc
    raw["counted"] = inc[inc["counted"]].reset_index(drop=True)
    terr = raw["territory"]
    raw["munis"] = terr[terr["level"] == "municipio"].sort_values("code").reset_index(drop=True)
    pop = raw["population"].merge(terr[["code", "level", "dept_code"]], on="code")
    pop["person_years"] = pop["population"] * pop["year"].map(COVERAGE)
    raw["pop"] = pop
    return path, raw


@pytest.fixture()
def hw(built, use_warehouse):
    path, raw = built
    use_warehouse(path)
    return raw


# --------------------------------------------------------------------------------------
# Arithmetic done by hand
# --------------------------------------------------------------------------------------

def select(df: pd.DataFrame, years=(2019, 2021), types=None, sexes=None, ages=None, dept=None) -> pd.DataFrame:
    keep = df["year"].between(*years)
    if types:
        keep &= df["crime_type"].isin(types)
    if sexes:
        keep &= df["victim_sex"].isin(sexes)
    if ages:
        keep &= df["age_group"].isin(ages)
    if dept:
        keep &= df["dept_code"] == dept
    return df[keep]


def person_years(raw, years=(2019, 2021), sexes=None, ages=None, level="municipio") -> pd.DataFrame:
    p = raw["pop"]
    keep = (p["level"] == level) & p["year"].between(*years)
    if sexes:
        keep &= p["sex"].isin(sexes)
    if ages:
        keep &= p["age_group"].isin(ages)
    return p[keep]


def per_100k(n, py):
    return n / py * 100_000


def marshall(n, p) -> np.ndarray:
    """Empirical-Bayes rates per 100,000 (Marshall 1991), written out term by term."""
    n, p = np.asarray(n, float), np.asarray(p, float)
    k = len(n)
    b = n.sum() / p.sum()
    s2 = sum(p[i] * (n[i] / p[i] - b) ** 2 for i in range(k)) / p.sum()
    a = max(0.0, s2 - b / (p.sum() / k))
    return np.array([(b + a / (a + b / p[i]) * (n[i] / p[i] - b)) * 100_000 for i in range(k)])


def poisson_tail(observed: int, lam: float) -> float:
    """P(X >= observed), X ~ Poisson(lam), summed term by term."""
    if observed <= 0:
        return 1.0
    if lam == 0:
        return 0.0
    return 1.0 - sum(math.exp(-lam) * lam ** k / math.factorial(k) for k in range(observed))


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine distance."""
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


# --------------------------------------------------------------------------------------
# Resumen
# --------------------------------------------------------------------------------------

def test_fixture_is_what_the_checks_assume(hw):
    assert rates.data_period()[1].isoformat() == PERIOD[1]
    assert rates.year_coverage(2021) == pytest.approx(8 / 12)
    assert len(hw["counted"]) > 1500 and (~hw["all"]["counted"]).sum() > 50


@pytest.mark.parametrize("f,years,types,sexes,ages", [
    (Filters(), (2019, 2021), None, None, None),
    (Filters(year_from=2019, year_to=2020, sexes=("M",), age_groups=("18-29", "30-44")), (2019, 2020), None,
     ("M",), ("18-29", "30-44")),
    (Filters(crime_types=("robo", "hurto"), dept_code="01"), (2019, 2021), ("robo", "hurto"), None, None),
])
def test_resumen_headline(hw, f, years, types, sexes, ages):
    c = select(hw["counted"], years, types, sexes, ages, f.dept_code)
    py = person_years(hw, years, sexes, ages)
    if f.dept_code:
        py = py[py["dept_code"] == f.dept_code]
    h = rates.headline(f)
    assert h.count == len(c)
    assert h.denominator.person_years == pytest.approx(py["person_years"].sum())
    assert h.rate == pytest.approx(per_100k(len(c), py["person_years"].sum()))
    assert h.latest_year == years[1]
    assert h.latest_count == (c["year"] == years[1]).sum()
    assert h.previous_count == (c["year"] == years[1] - 1).sum()
    if years[1] == 2021:   # partial against complete: no change is shown
        assert h.change_pct is None
    else:
        assert h.change_pct == pytest.approx((h.latest_count - h.previous_count) / h.previous_count * 100)
    assert h.municipalities_with_cases == c["muni_code"].nunique()
    assert h.municipalities == (3 if not f.dept_code else 2)


def test_resumen_series(hw):
    c = hw["counted"]
    yearly = rates.yearly(Filters(), by="crime_group").set_index(["year", "crime_group"])
    groups = c["crime_group"].unique()
    for year in (2019, 2020, 2021):
        py = person_years(hw, (year, year))["person_years"].sum()
        assert yearly.loc[(year, groups[0]), "population"] == pytest.approx(py)
        for g in groups:
            n = ((c["year"] == year) & (c["crime_group"] == g)).sum()
            assert yearly.loc[(year, g), "n"] == n
            assert yearly.loc[(year, g), "rate"] == pytest.approx(per_100k(n, py))
            assert yearly.loc[(year, g), "partial"] == (year == 2021)
    monthly = rates.monthly(Filters(), by=None)
    expected = c.groupby("month").size()
    assert dict(zip(pd.to_datetime(monthly["month"]), monthly["n"])) == expected.to_dict()


def test_resumen_page_metrics(hw):
    from tests.apptest import metrics, run_app

    c = hw["counted"]
    at = run_app()
    assert not at.exception
    shown = metrics(at)
    py = person_years(hw)["person_years"].sum()
    assert shown["Víctimas registradas"] == fmt.integer(len(c))
    assert shown["Tasa anual por 100,000 hab."] == fmt.decimal(per_100k(len(c), py))
    assert shown["Víctimas en 2021 (parcial)"] == fmt.integer((c["year"] == 2021).sum())
    assert shown["Municipios con víctimas"] == "3 de 3"


# --------------------------------------------------------------------------------------
# Mapa
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("f,years,types,sexes", [
    (Filters(), (2019, 2021), None, None),
    (Filters(year_from=2020, year_to=2021, crime_types=("violencia_mujer",), sexes=("M",)), (2020, 2021),
     ("violencia_mujer",), ("M",)),
])
def test_mapa_incidence_by_municipality_and_department(hw, f, years, types, sexes):
    c = select(hw["counted"], years, types, sexes)
    py = person_years(hw, years, sexes).groupby("code")["person_years"].sum()
    munis = hw["munis"]
    n = munis["code"].map(c.groupby("muni_code").size()).fillna(0).to_numpy()
    p = munis["code"].map(py).to_numpy()
    got = rates.by_municipality(f)
    assert got["code"].tolist() == munis["code"].tolist()
    assert got["n"].tolist() == n.astype(int).tolist()
    np.testing.assert_allclose(got["population"], p)
    np.testing.assert_allclose(got["rate"].astype(float), per_100k(n, p))
    np.testing.assert_allclose(got["rate_eb"], marshall(n, p))
    dept = rates.by_department(f).set_index("code")
    for d in ("01", "02"):
        in_d = (munis["dept_code"] == d).to_numpy()
        assert dept.loc[d, "n"] == n[in_d].sum()
        assert dept.loc[d, "rate"] == pytest.approx(per_100k(n[in_d].sum(), p[in_d].sum()))


def test_mapa_priority_index(hw):
    c, munis = hw["counted"], hw["munis"]
    py = person_years(hw).groupby("code")["person_years"].sum()
    py_women = person_years(hw, sexes=("M",)).groupby("code")["person_years"].sum()
    p, pw = munis["code"].map(py).to_numpy(), munis["code"].map(py_women).to_numpy()

    def counts(df):
        return munis["code"].map(df.groupby("muni_code").size()).fillna(0).to_numpy()

    raw = {
        "hom": marshall(counts(select(c, types=priority.LETHAL_TYPES)), p),
        "vcm": marshall(counts(select(c, types=vaw.types(), sexes=("M",))), pw),
        "pat": marshall(counts(select(c, types=priority.PROPERTY_TYPES)), p),
    }
    index_types = priority.LETHAL_TYPES + vaw.types() + priority.PROPERTY_TYPES
    last = counts(select(c, (2021, 2021), index_types)) / (8 / 12)
    before = (counts(select(c, (2019, 2019), index_types)) + counts(select(c, (2020, 2020), index_types))) / 2
    raw["ten"] = np.log((last + 1) / (before + 1))
    ind = hw["indicator"]
    latest = ind[ind["year"] == ind.groupby("indicator")["year"].transform("max")]
    for code in ("alfabetismo", "pobreza"):
        raw[code] = munis["code"].map(latest[latest["indicator"] == code].set_index("code")["value"]).to_numpy()
    worse = {"alfabetismo": False, "pobreza": True}
    weights = priority.default_weights()
    points, present = {}, np.zeros(3)
    for key, values in raw.items():
        v = pd.Series(values, dtype=float)
        # percentile rank among the country's municipalities: the share of the others with a lower
        # value (1 = worst); a component equal everywhere scales to 0 and still counts
        below = np.array([(v.dropna() < x).sum() for x in v], dtype=float)
        s = pd.Series(np.where(v.notna(), below / (v.notna().sum() - 1), np.nan))
        s = s if worse.get(key, True) else 1 - s
        points[key] = weights[key] * s.to_numpy()
        present += np.where(s.notna(), weights[key], 0)
    index = np.nansum([100 * pts / present for pts in points.values()], axis=0)
    got = priority.priority_index(Filters()).table
    assert got["code"].tolist() == munis["code"].tolist()
    for key in ("hom", "vcm", "pat", "ten", "alfabetismo", "pobreza"):
        np.testing.assert_allclose(got[key].astype(float), raw[key], err_msg=key)
    np.testing.assert_allclose(got["index"], index)
    assert got["rank"].tolist() == pd.Series(index).rank(ascending=False, method="min").astype(int).tolist()


# --------------------------------------------------------------------------------------
# Municipio
# --------------------------------------------------------------------------------------

def test_municipio_profile(hw):
    c, munis = hw["counted"], hw["munis"]
    f = Filters(year_from=2020, year_to=2020)
    now, before = select(c, (2020, 2020)), select(c, (2019, 2019))
    py = person_years(hw, (2020, 2020)).groupby("code")["person_years"].sum()
    n = now.groupby("muni_code").size().reindex(munis["code"], fill_value=0)
    expected_rates = per_100k(n, py.reindex(munis["code"]))
    p = municipality.profile(f, "0102")
    assert p.count == n["0102"]
    assert p.population == pytest.approx(py["0102"])
    assert p.rate == pytest.approx(expected_rates["0102"])
    assert p.rank_national == int((expected_rates > expected_rates["0102"]).sum()) + 1
    north = expected_rates[["0101", "0102"]]
    assert p.rank_department == int((north > expected_rates["0102"]).sum()) + 1
    assert p.department_rate == pytest.approx(per_100k(n[["0101", "0102"]].sum(), py[["0101", "0102"]].sum()))
    assert p.national_rate == pytest.approx(per_100k(n.sum(), py.sum()))
    assert p.previous_label == "2019"
    assert p.previous_count == (before["muni_code"] == "0102").sum()
    assert p.change_pct == pytest.approx((p.count - p.previous_count) / p.previous_count * 100)
    assert (p.department_count, p.national_count) == (n[["0101", "0102"]].sum(), n.sum())


def test_municipio_breakdowns(hw):
    c = select(hw["counted"], (2019, 2021))
    alfa = c[c["muni_code"] == "0101"]
    f = Filters(dept_code="02")   # the municipality replaces the department filter
    types = municipality.by_crime_type(f, "0101").set_index("crime_type")
    expected = alfa.groupby("crime_type").size()
    assert types["n"].to_dict() == expected.to_dict()
    np.testing.assert_allclose(types["share"], types["n"] / len(alfa) * 100)
    pyr = municipality.pyramid(f, "0101").set_index(["age_group", "victim_sex"])["n"]
    assert pyr[pyr > 0].to_dict() == alfa.groupby(["age_group", "victim_sex"]).size().to_dict()
    weapons = municipality.by_weapon(f, "0101").set_index("weapon")["n"]
    assert weapons.to_dict() == alfa.groupby("weapon").size().to_dict()
    wh = municipality.weekday_hour(f, "0101")
    hand = alfa.assign(weekday=alfa["date"].dt.day_of_week, hour=alfa["occurred_hour"].fillna(-1).astype(int))
    assert wh.set_index(["weekday", "hour"])["n"].to_dict() == hand.groupby(["weekday", "hour"]).size().to_dict()
    every = hw["all"][hw["all"]["muni_code"] == "0101"]
    src = municipality.by_source(f, "0101").set_index("source")
    assert src["records"].to_dict() == every.groupby("source").size().to_dict()
    assert src["counted"].to_dict() == every.groupby("source")["counted"].sum().to_dict()


def test_municipio_aldeas_cells_and_reference(hw):
    c = select(hw["counted"], (2019, 2021))
    alfa = c[c["muni_code"] == "0101"]
    table, note = municipality.aldeas(Filters(), "0101")
    assert note is None
    by = table.assign(code=table["code"].fillna("sin")).set_index("code")
    hand = alfa.assign(code=alfa["aldea_code"].fillna("sin")).groupby(["code", "crime_group"]).size()
    for (code, group), n in hand.items():
        assert by.loc[code, group] == n
    assert by["n"].to_dict() == alfa.assign(code=alfa["aldea_code"].fillna("sin")).groupby("code").size().to_dict()
    aldea_py = person_years(hw, level="aldea").groupby("code")["person_years"].sum()
    for code in ("010101", "010102"):
        assert by.loc[code, "rate"] == pytest.approx(per_100k(by.loc[code, "n"], aldea_py[code]))
    cells = municipality.incident_cells(Filters(), "0101")
    geo = alfa.dropna(subset=["lon", "lat"])
    assert cells["n"].sum() == len(geo)
    step = municipality.GRID_DEG
    hand_cells = geo.groupby([np.floor(geo["lon"] / step), np.floor(geo["lat"] / step)]).size()
    assert sorted(cells["n"].tolist()) == sorted(hand_cells.tolist())
    # monthly reference: the mean of the same month of the three previous years (only 2019-2021 here)
    monthly = municipality.monthly(Filters(year_from=2021, year_to=2021), "0101")
    assert monthly["reference"].isna().all()   # fewer than three previous years: no reference
    counts = alfa.groupby("month").size()
    assert dict(zip(monthly["month"], monthly["n"])) == \
        {m: int(counts.get(m, 0)) for m in pd.date_range("2021-01-01", "2021-08-01", freq="MS")}


# --------------------------------------------------------------------------------------
# Escuelas
# --------------------------------------------------------------------------------------

def test_escuelas_counts_rates_and_score(hw):
    c = select(hw["counted"], (2020, 2021)).dropna(subset=["lon", "lat"])
    sch = hw["school"].sort_values("school_code").reset_index(drop=True)
    result = schools.risk(Filters(year_from=2020, year_to=2021))
    got = result.table.set_index("school_code").loc[sch["school_code"]]
    near = {}
    for key, (radius, group, youth) in {"v100": (100, None, False), "v500": (500, None, False),
                                        "v1000": (1000, None, False), "jov500": (500, None, True),
                                        "sex500": (500, "Violencia sexual", False), "dro500": (500, "Drogas", False),
                                        "pat500": (500, "Delitos contra el patrimonio", False)}.items():
        values = []
        for s in sch.itertuples():
            d = metres(s.lon, s.lat, c["lon"].to_numpy(), c["lat"].to_numpy())
            keep = d <= radius
            if group:
                keep &= (c["crime_group"] == group).to_numpy()
            if youth:
                keep &= c["victim_age"].astype(float).between(10, 19).to_numpy(dtype=bool)
            values.append(int(keep.sum()))
        near[key] = values
        assert got[key].tolist() == values, key
    assert max(near["v1000"]) > 20   # the check is not vacuous
    # the aldea's smoothed rate among aldeas, the municipality's among municipalities
    aldea_py = person_years(hw, (2020, 2021), level="aldea").groupby("code")["person_years"].sum()
    aldea_n = select(hw["counted"], (2020, 2021)).groupby("aldea_code").size().reindex(aldea_py.index, fill_value=0)
    aldea_eb = dict(zip(aldea_py.index, marshall(aldea_n, aldea_py)))
    np.testing.assert_allclose(got["aldea"].astype(float), [aldea_eb.get(a, np.nan) for a in sch["aldea_code"]])
    muni_py = person_years(hw, (2020, 2021)).groupby("code")["person_years"].sum()
    muni_n = select(hw["counted"], (2020, 2021)).groupby("muni_code").size().reindex(muni_py.index, fill_value=0)
    muni_eb = dict(zip(muni_py.index, marshall(muni_n, muni_py)))
    np.testing.assert_allclose(got["muni"], [muni_eb[m] for m in sch["muni_code"]])
    # score = 100 x sum(w x percentile) / sum(w of the components the school has)
    weights = schools.default_weights()
    table = pd.DataFrame(near).assign(aldea=got["aldea"].to_numpy(dtype=float), muni=got["muni"].to_numpy(),
                                      vuln=got["vuln"].to_numpy(dtype=float))
    score = np.zeros(len(sch))
    present = np.zeros(len(sch))
    for key in schools.KEYS:
        x = table[key]
        valid = x.notna().sum()
        below = np.array([(x < v).sum() / (valid - 1) if pd.notna(v) else np.nan for v in x])
        score += np.where(np.isnan(below), 0, weights[key] * np.nan_to_num(below))
        present += np.where(np.isnan(below), 0, weights[key])
    np.testing.assert_allclose(got["score"], 100 * score / present)


def test_escuelas_vulnerability_composite(hw):
    ind = hw["indicator"]
    latest = ind[ind["year"] == ind.groupby("indicator")["year"].transform("max")]
    wide = latest.pivot(index="code", columns="indicator", values="value").reindex(hw["munis"]["code"])
    pov = (wide["pobreza"] - wide["pobreza"].min()) / (wide["pobreza"].max() - wide["pobreza"].min())
    lit = 1 - (wide["alfabetismo"] - wide["alfabetismo"].min()) / (wide["alfabetismo"].max() - wide["alfabetismo"].min())
    expected = pd.concat([pov, lit], axis=1).mean(axis=1) * 100
    got = vulnerability.composite().set_index("code")[vulnerability.COMPOSITE]
    np.testing.assert_allclose(got.loc[expected.index], expected)


# --------------------------------------------------------------------------------------
# Informes
# --------------------------------------------------------------------------------------

def test_informes_rate_by_department_and_sex(hw):
    f = Filters(year_from=2020, year_to=2021, crime_groups=("Delitos contra el patrimonio",))
    report = reports.run(reports.ReportSpec(measure="rate", dims=("department", "sex"), filters=f))
    c = select(hw["counted"], (2020, 2021))
    c = c[c["crime_group"] == "Delitos contra el patrimonio"]
    py = person_years(hw, (2020, 2021)).groupby(["dept_code", "sex"])["person_years"].sum()
    names = {"01": "Norte", "02": "Sur"}
    data = report.data.set_index(["Departamento", "Sexo de la víctima"])
    hand = c.groupby(["dept_code", "victim_sex"]).size()
    assert len(data) == len(hand)
    for (dept, sex), n in hand.items():
        row = data.loc[(names[dept], SEX_LABELS[sex])]
        assert row["Víctimas"] == n
        if sex == "ND":
            assert pd.isna(row["Tasa por 100,000 hab."])
        else:
            assert row["Personas-año"] == pytest.approx(py[(dept, sex)])
            assert row["Tasa por 100,000 hab."] == pytest.approx(per_100k(n, py[(dept, sex)]))
    assert report.totals["Víctimas"].iloc[0] == len(c)


def test_informes_share_and_change(hw):
    c = hw["counted"]
    share = reports.run(reports.ReportSpec(measure="share", dims=("crime_group",), filters=Filters()))
    hand = c.groupby("crime_group").size()
    got = share.data.set_index("Grupo de delito")
    for g, n in hand.items():
        assert got.loc[g, "Víctimas"] == n
        assert got.loc[g, "% del total"] == pytest.approx(n / len(c) * 100)
    change = reports.run(reports.ReportSpec(measure="change", dims=("municipality",),
                                            filters=Filters(year_from=2020, year_to=2020)))
    got = change.data.set_index("Municipio")
    for code, label in (("0101", "Alfa (depto. de Norte)"), ("0102", "Beta (depto. de Norte)"),
                        ("0201", "Gamma (depto. de Sur)")):
        now = ((c["year"] == 2020) & (c["muni_code"] == code)).sum()
        before = ((c["year"] == 2019) & (c["muni_code"] == code)).sum()
        assert got.loc[label, "Víctimas"] == now
        assert got.loc[label, "Víctimas del periodo anterior"] == before
        assert got.loc[label, "Cambio vs periodo anterior (%)"] == pytest.approx((now - before) / before * 100)


# --------------------------------------------------------------------------------------
# Alertas
# --------------------------------------------------------------------------------------

def test_alertas_observed_expected_probability(hw):
    c = hw["counted"]
    result = alerts.scan(Filters())
    assert result.latest_month.isoformat() == "2021-08-01"
    assert result.baseline_years == (2019,) and result.excluded_years == (2020,)  # 2020 excluded by default
    t = result.table.set_index(["code", "crime_group", "window"])
    groups = sorted(hw["crime_type"]["crime_group"].unique())
    assert len(t) == 3 * len(groups) * 2
    counts = c.groupby(["muni_code", "crime_group", "month"]).size()

    def n(code, group, months):
        return sum(int(counts.get((code, group, pd.Timestamp(y, m, 1)), 0)) for y, m in months)

    p_values = {}
    for code in ("0101", "0102", "0201"):
        for group in groups:
            for window, length in (("mes", 1), ("trimestre", 3)):
                row = t.loc[(code, group, window)]
                observed = n(code, group, [(2021, m) for m in range(9 - length, 9)])
                # one baseline year: the windows ending at July, August and September 2019; their mean
                points = np.array([n(code, group, [(2019, m) for m in range(end - length + 1, end + 1)])
                                   for end in (7, 8, 9)], dtype=float)
                mean = points.mean()
                assert row["observed"] == observed
                assert row["expected"] == pytest.approx(mean)
                if mean > 0:
                    phi = max(1.0, ((points - mean) ** 2 / mean).sum() / 2)
                    variance = phi * mean + mean ** 2 * phi / (3 * mean)
                    assert row["variance"] == pytest.approx(variance)
                    if observed == 0:
                        expected_p = 1.0
                    elif variance > mean * (1 + 1e-9):
                        size = mean ** 2 / (variance - mean)
                        expected_p = nbinom.sf(observed - 1, size, size / (size + mean))
                    else:
                        expected_p = poisson_tail(observed, mean)
                    assert row["p_value"] == pytest.approx(expected_p, abs=1e-12)
                p_values[(code, group, window)] = row["p_value"]
    keys = list(p_values)
    q = dict(zip(keys, multipletests([p_values[k] for k in keys], method="fdr_bh")[1]))
    for key in keys:
        row = t.loc[key]
        assert row["q_value"] == pytest.approx(q[key])
        assert row["alert"] == (q[key] <= alerts.DEFAULT_FDR and row["observed"] >= alerts.DEFAULT_MIN_COUNT)


# --------------------------------------------------------------------------------------
# Datos abiertos
# --------------------------------------------------------------------------------------

def test_datos_abiertos_tables(hw):
    c = hw["counted"]
    fine = opendata.municipality_month(Filters())
    hand = c.groupby(["month", "muni_code", "crime_type", "victim_sex", "age_group"]).size()
    got = fine.assign(mes=pd.to_datetime(fine["mes"])).set_index(
        ["mes", "codigo_municipio", "tipo_delito", "sexo", "grupo_edad"])["victimas"]
    assert got.to_dict() == hand.to_dict()
    assert opendata.municipality_month_rows(Filters()) == len(hand)
    yearly = opendata.department_year(Filters()).set_index(["codigo_departamento", "anio"])
    for dept in ("01", "02"):
        for year in (2019, 2020, 2021):
            n = ((c["dept_code"] == dept) & (c["year"] == year)).sum()
            py = person_years(hw, (year, year))
            py = py.loc[py["dept_code"] == dept, "person_years"].sum()
            row = yearly.loc[(dept, year)]
            assert row["victimas"] == n
            assert row["personas_anio"] == pytest.approx(py)
            assert row["tasa_100k"] == pytest.approx(per_100k(n, py))
            assert bool(row["anio_parcial"]) == (year == 2021)


# --------------------------------------------------------------------------------------
# Boletín
# --------------------------------------------------------------------------------------

def kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r"<div class='kpi'>(.*?)<b>(.*?)</b></div>", html))


def test_boletin_key_figures(hw):
    c = hw["counted"]
    f = Filters(year_from=2019, year_to=2020)
    page = bulletin.render(f)
    n = select(c, (2019, 2020))
    py = person_years(hw, (2019, 2020))["person_years"].sum()
    n19, n20 = (c["year"] == 2019).sum(), (c["year"] == 2020).sum()
    py19 = person_years(hw, (2019, 2019))["person_years"].sum()
    py20 = person_years(hw, (2020, 2020))["person_years"].sum()
    shown = kpis(page)
    assert list(shown) == ["Víctimas registradas", "Tasa anual por 100,000 hab.", "Cambio 2020 vs 2019",
                           "Municipios con víctimas", "ene–dic 2020", "Cambio ene–dic 2020 vs 2019"]
    assert shown == {
        "Víctimas registradas": fmt.integer(len(n)),
        "Tasa anual por 100,000 hab.": fmt.decimal(per_100k(len(n), py)),
        "Cambio 2020 vs 2019": fmt.percent((n20 - n19) / n19 * 100, signed=True),
        "Municipios con víctimas": "3 de 3",
        # the year so far (here the whole of 2020) against the same months of 2019: the change of the rate
        "ene–dic 2020": fmt.integer(n20),
        "Cambio ene–dic 2020 vs 2019": shown["Cambio ene–dic 2020 vs 2019"],
    }
    assert shown["Cambio ene–dic 2020 vs 2019"].startswith(
        fmt.percent(((n20 / py20) / (n19 / py19) - 1) * 100, signed=True) + " (")
    one = bulletin.render(f, "0201")
    gamma = n[n["muni_code"] == "0201"]
    gamma_py = person_years(hw, (2019, 2020))
    gamma_py = gamma_py.loc[gamma_py["code"] == "0201", "person_years"].sum()
    shown = kpis(one)
    assert shown["Víctimas registradas"] == fmt.integer(len(gamma))
    assert shown["Tasa anual por 100,000 hab."] == fmt.decimal(per_100k(len(gamma), gamma_py))
    assert "Sin datos de Forense" in one   # the forensic institute never covers Gamma


# --------------------------------------------------------------------------------------
# Calidad
# --------------------------------------------------------------------------------------

def test_calidad_sources_and_reconciliation(hw):
    every = hw["all"]
    src = quality.sources().set_index("source")
    assert src["rows_loaded"].to_dict() == every.groupby("source").size().to_dict()
    f = Filters()
    lethal = every[every["crime_type"].isin(LETHAL)]
    monthly = quality.reconciliation_monthly(f)
    got = monthly.assign(month=pd.to_datetime(monthly["month"])).set_index(["month", "series"])["victims"]
    hand = lethal.groupby(["month", "source"]).size().to_dict() | {
        (m, quality.PUBLISHED): n for m, n in lethal[lethal["counted"]].groupby("month").size().items()}
    assert got.to_dict() == hand
    wide = quality.reconciliation_by_municipality(f)
    row = wide.iloc[0]
    cell = lethal[(lethal["muni_code"] == row["muni_code"]) & (lethal["month"] == pd.Timestamp(row["month"]))]
    by_source = cell.groupby("source").size().reindex(["inacif", "pnc"], fill_value=0)
    assert row["inacif"] == by_source["inacif"] and row["pnc"] == by_source["pnc"]
    assert row["published"] == cell["counted"].sum()
    assert row["divergence"] == by_source.max() - by_source.min()
    assert row["divergence"] == wide["divergence"].max()
    # per crime: each source's count, the published one, and the municipality-months where they differ
    summary = quality.reconciliation_summary(f).set_index("crime_type")
    assert set(summary.index) == set(LETHAL)
    for crime, rows in lethal.groupby("crime_type"):
        got = summary.loc[crime]
        assert got["rule_label"] == "Fuente de referencia" and got["reference"] == src.loc["inacif", "institution"]
        for source, n in rows.groupby("source").size().items():
            assert got[source] == n
        assert got["published"] == rows["counted"].sum()
        cells = rows.groupby(["muni_code", "month", "source"]).size().unstack(fill_value=0)
        cells = cells.reindex(columns=sorted(rows["source"].unique()), fill_value=0)
        assert got["cells"] == len(cells)
        assert got["cells_differ"] == int((cells.max(axis=1) != cells.min(axis=1)).sum())
        assert got["differ_pct"] == pytest.approx(100 * got["cells_differ"] / got["cells"])
    # one crime at a time
    homicide = quality.reconciliation_monthly(f, "homicidio")
    assert homicide["victims"].sum() == len(lethal[lethal["crime_type"] == "homicidio"]) + \
        lethal[(lethal["crime_type"] == "homicidio")]["counted"].sum()
