"""Early warning: alerts fire where the latest months are improbably high, and only there."""
import json
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import nbinom, poisson
from scipy.stats import t as student_t
from statsmodels.stats.multitest import multipletests

from core import alerts, fmt
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import metrics, run_app


def robberies(muni, year, month, n):
    return [("pnc", f"{year}-{month:02d}-10", muni, "robo", "H", 30, True)] * n


# Alfa: 2 robberies every December 2018-2020, then 12 in December 2021 -> alert.
# Beta: 10 every December, then 12 -> ordinary.  Gamma: none before, 4 in December 2021 -> below the minimum.
# Alfa also: 3 thefts in Oct-Dec of each baseline year and 4 in Oct-Dec 2021 -> ordinary (three-month window).
HISTORY = (
    [r for y in (2018, 2019, 2020) for r in robberies("0101", y, 12, 2)] + robberies("0101", 2021, 12, 12)
    + [r for y in (2018, 2019, 2020) for r in robberies("0102", y, 12, 10)] + robberies("0102", 2021, 12, 12)
    + robberies("0201", 2021, 12, 4)
    + [("pnc", f"{y}-{m:02d}-05", "0101", "hurto", "M", 40, True) for y in (2018, 2019, 2020, 2021) for m in (10, 11, 12)]
    + [("pnc", "2021-11-05", "0101", "hurto", "M", 40, True)]
)


@pytest.fixture()
def history(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "a.duckdb", incidents=HISTORY, period_start="2018-01-01"))


def pick(result, code, group, window):
    t = result.table
    return t[(t["code"] == code) & (t["crime_group"] == group) & (t["window"] == window)].iloc[0]


def farrington_mean_only(points):
    """Expected count and predictive variance of the mean-of-points baseline, written out."""
    y = np.asarray(points, dtype=float)
    k, mean = len(y), y.mean()
    phi = max(1.0, ((y - mean) ** 2 / mean).sum() / (k - 1))
    return mean, phi * mean + mean ** 2 * phi / (k * mean)


def nb_tail(observed, mean, variance):
    size = mean ** 2 / (variance - mean)
    return nbinom.sf(observed - 1, size, size / (size + mean))


def test_alert_fires_only_where_it_must(history):
    r = alerts.scan(Filters())
    # 2020 is excluded by default; 2018 and 2019 remain (the data start in 2018)
    assert str(r.latest_month) == "2021-12-01" and r.baseline_years == (2018, 2019) and r.excluded_years == (2020,)
    alfa = pick(r, "0101", "Delitos contra el patrimonio", "mes")
    # points: November, December, January after, of 2018 and 2019 (January 2020 is in the excluded
    # year: left out): thefts 1, 1 + 2 robberies, 0
    mean, variance = farrington_mean_only([1, 3, 0, 1, 3])
    assert alfa["observed"] == 13 and alfa["expected"] == pytest.approx(mean) and alfa["variance"] == pytest.approx(variance)
    assert np.isnan(alfa["trend"])  # two years: no trend fitted
    assert alfa["p_value"] == pytest.approx(nb_tail(13, mean, variance)) and alfa["alert"]
    assert alfa["z"] == pytest.approx((13 - mean) / math.sqrt(variance))
    beta = pick(r, "0102", "Delitos contra el patrimonio", "mes")
    mean_b, var_b = farrington_mean_only([0, 10, 0, 0, 10])
    assert (beta["observed"], beta["expected"]) == (12, pytest.approx(mean_b)) and not beta["alert"]
    assert beta["p_value"] == pytest.approx(nb_tail(12, mean_b, var_b))
    gamma = pick(r, "0201", "Delitos contra el patrimonio", "mes")
    assert gamma["expected"] == 0 and gamma["p_value"] == 0 and not gamma["alert"]  # 4 < minimum of 5
    assert alerts.scan(Filters(), min_count=4).table.pipe(
        lambda t: t[(t["code"] == "0201") & (t["window"] == "mes")]["alert"].any())
    # three months ending at November, December and January of each baseline year
    quarter = pick(r, "0101", "Delitos contra el patrimonio", "trimestre")
    mean_q, _ = farrington_mean_only([2, 3 + 2, 2 + 2, 2, 3 + 2])  # Sep-Nov, Oct-Dec, Nov-Jan; not Nov 2019-Jan 2020
    assert (quarter["observed"], quarter["expected"]) == (12 + 4, pytest.approx(mean_q))
    # the q-values are Benjamini-Hochberg's over every comparison of the scan
    tested = r.table["p_value"].notna()
    assert list(r.table.loc[tested, "q_value"]) == pytest.approx(
        list(multipletests(r.table.loc[tested, "p_value"], method="fdr_bh")[1]))
    assert r.table.iloc[0]["alert"] and r.table["alert"].sum() == 2  # Alfa: month and quarter


def test_excluded_years_are_an_explicit_choice(history):
    everything = alerts.scan(Filters(), excluded=())
    assert everything.baseline_years == (2018, 2019, 2020) and everything.excluded_years == ()
    alfa = pick(everything, "0101", "Delitos contra el patrimonio", "mes")
    # three years: a trend is tried, but these points have none (Farrington keeps the mean)
    assert np.isnan(alfa["trend"])
    assert alfa["expected"] == pytest.approx(farrington_mean_only([1, 3, 0] * 3)[0])


def test_fdr_level_and_short_history(history):
    strict = alerts.scan(Filters(), fdr=1e-12)
    assert not strict.table["alert"].any()
    only_theft = alerts.scan(Filters(crime_types=("hurto",)))
    assert set(only_theft.table["crime_group"]) == {"Delitos contra el patrimonio"}
    assert not only_theft.table["alert"].any()
    r2019 = alerts.scan(Filters(2018, 2019))
    assert str(r2019.latest_month) == "2019-12-01" and r2019.baseline_years == (2018,) and "Solo hay 1" in r2019.note
    assert alerts.history(Filters(), "0101", "Delitos contra el patrimonio")["n"].iloc[-1] == 13


def test_trend_and_dispersion_fit_equals_statsmodels():
    """The vectorised quasi-Poisson fit against statsmodels' GLM, row by row."""
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    years = 5
    times = np.array([-(y) + d / 12 for y in range(years, 0, -1) for d in (-1, 0, 1)])
    slopes = rng.choice([0.0, 0.15, -0.2, 0.4], size=60)
    means = rng.uniform(3, 30, size=60)
    points = rng.negative_binomial(5, 5 / (5 + means[:, None] * np.exp(slopes[:, None] * times[None, :])))
    fit = alerts.fit_baseline(points, times, years)
    x = sm.add_constant(times)
    used = 0
    for i, y in enumerate(points):
        res = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2")
        phi = max(1.0, res.pearson_chi2 / res.df_resid)
        slope_t = res.params[1] / (np.sqrt(res.cov_params()[1, 1] / res.scale * phi))
        keep = abs(slope_t) > student_t.ppf(0.975, len(y) - 2) and np.exp(res.params[0]) <= y.max()
        if keep:
            used += 1
            var_eta = phi * res.cov_params()[0, 0] / res.scale
            assert fit.expected[i] == pytest.approx(np.exp(res.params[0]), rel=1e-6)
            assert fit.variance[i] == pytest.approx(phi * fit.expected[i] + fit.expected[i] ** 2 * var_eta, rel=1e-5)
            assert fit.trend[i] == pytest.approx(np.expm1(res.params[1]) * 100, rel=1e-6)
        else:
            mean, variance = farrington_mean_only(y)
            assert np.isnan(fit.trend[i]) and fit.expected[i] == pytest.approx(mean)
            assert fit.variance[i] == pytest.approx(variance)
    assert 5 < used < 55  # both branches are exercised


def _independent_null_alerts(expected, variance, fdr, min_count, simulations, seed):
    """Simulate the null with scipy's generators and statsmodels' Benjamini-Hochberg."""
    rng = np.random.default_rng(seed)
    mu = np.asarray(expected, dtype=float)
    var = np.asarray(variance, dtype=float)
    over = var > mu * (1 + 1e-9)
    size = np.where(over, mu ** 2 / np.where(over, var - mu, 1), np.inf)
    alerts_seen = []
    np.seterr(invalid="ignore", divide="ignore")
    for _ in range(simulations):
        obs = np.where(over, nbinom.rvs(np.where(over, size, 1), np.where(over, size / (size + mu), 0.5), random_state=rng),
                       poisson.rvs(mu, random_state=rng))
        p = np.where(obs <= 0, 1.0, np.where(over, nbinom.sf(obs - 1, np.where(over, size, 1),
                                                              np.where(over, size / (size + mu), 0.5)),
                                             poisson.sf(obs - 1, mu)))
        q = multipletests(p, method="fdr_bh")[1]
        alerts_seen.append(int(((q <= fdr) & (obs >= min_count)).sum()))
    return np.mean(alerts_seen), np.std(alerts_seen) / np.sqrt(simulations)


def test_null_simulation_skips_only_p_values_that_cannot_matter():
    """The fast null simulation (p-values only where they can be <= fdr) gives the figure of the full
    computation with the same draws: every p-value, Benjamini-Hochberg over all of them."""
    rng = np.random.default_rng(5)
    mu = rng.gamma(1.5, 3.0, 3_000)
    var = mu * rng.choice([1.0, 1.0, 1.8, 4.0], len(mu))
    for fdr, min_count in ((0.05, 1), (0.10, 3), (0.5, 1)):
        threshold = alerts.significance_threshold(mu, var, fdr)
        assert (alerts.upper_tail(threshold - 1, mu, var) > fdr).all()
        draws = alerts._draw(mu, var, np.random.default_rng(11), 60)
        full = sum(int(((alerts.benjamini_hochberg(alerts.upper_tail(obs, mu, var)) <= fdr) & (obs >= min_count)).sum())
                   for obs in draws) / 60
        assert alerts.null_alerts(mu, var, fdr, min_count, simulations=60, seed=11) == full
        if fdr == 0.5:
            assert full > 0.3  # the comparison is not between two zeros


def test_false_alert_figure_matches_an_independent_simulation():
    # a small family where the procedure does raise alerts by chance
    mu = np.array([3.0, 5.0, 2.0, 8.0, 1.5, 4.0, 6.0, 2.5])
    var = mu * np.array([1.0, 1.5, 2.0, 1.0, 3.0, 1.2, 1.0, 2.5])
    core = alerts.null_alerts(mu, var, fdr=0.5, min_count=1, simulations=4_000, seed=1)
    mean, se = _independent_null_alerts(mu, var, 0.5, 1, 4_000, seed=99)
    assert mean > 0.3
    assert core == pytest.approx(mean, abs=4 * se * np.sqrt(2))
def test_alerts_page(history):
    at = run_app(page="alertas")
    assert not at.exception
    assert metrics(at)["Alertas"] == "2"
    assert list(at.dataframe[0].value["Municipio"]) == ["Alfa", "Alfa"]
    assert len(at.get("vega_lite_chart")) == 1
    at.slider(key="al_minimo").set_value(4).run()
    assert metrics(at)["Alertas"] == "4" and at.query_params["minimo"] == "4"  # Gamma: month and quarter
    at.selectbox(key="al_fdr").set_value(0.01).run()
    assert not at.exception and at.query_params["fdr"] == "0.01"


def test_a_zero_expected_count_is_explained_not_shown_as_a_rounded_zero(history):
    r = alerts.scan(Filters(), min_count=4)
    t = r.table[(r.table["crime_group"] == "Delitos contra el patrimonio") & (r.table["window"] == "mes")]
    gamma = t[t["code"] == "0201"]
    # no robbery around the Decembers of 2018-2019: expected 0, and the model calls 4 cases impossible
    assert gamma["expected"].tolist() == [0] and gamma["p_value"].tolist() == [0] and gamma["alert"].all()
    note = alerts.notes(gamma, 4).iloc[0]
    assert note == ("Sin casos registrados en los meses de comparación de 2018 y 2019: con un esperado de 0, "
                    "cualquier cifra desde el mínimo (4) da alerta; la probabilidad no se puede calcular.")
    alfa = t[t["code"] == "0101"]
    assert (alerts.notes(alfa, 4) == "").all()  # expected 1.6: nothing to explain
    assert alerts.expected_label(0.0) == "0" and alerts.expected_label(1 / 3) == "0.3"
    assert alerts.expected_label(1234.5) == "1,234.5" and alerts.expected_label(float("nan")) == "—"
    no_years = gamma.assign(years="")  # no baseline at all: no expected value, nothing to say about it
    assert (alerts.notes(no_years.assign(expected=float("nan")), 4) == "").all()

    at = run_app({"minimo": "4"}, page="alertas")
    assert not at.exception
    table = at.dataframe[0].value.set_index(["Municipio", "Ventana"])
    row = table.loc[("Gamma", "Último mes")]
    assert (row["Observado"], row["Esperado"], row["Probabilidad"]) == (4, "0", "—")
    assert row["Nota"].startswith("Sin casos registrados en los meses de comparación de 2018 y 2019")
    alfa_row = table.loc[("Alfa", "Último mes")]
    assert (alfa_row["Esperado"], alfa_row["Nota"]) == ("1.6", "")  # (1 + 3 + 0 + 1 + 3) / 5
    assert alfa_row["Tendencia de la línea base (% anual)"] == "sin tendencia"
    assert any("2 alerta(s) sin casos registrados" in w.value for w in at.warning)



def test_alerts_page_on_the_demo_shows_every_alert_trend(demo):
    at = run_app(page="alertas")
    assert not at.exception
    found = alerts.scan(Filters()).table.query("alert").drop_duplicates(["code", "crime_group"])
    assert metrics(at)["Municipios con alerta"] == f"{found['code'].nunique():,}"
    assert len(at.get("vega_lite_chart")) == min(len(found), 12) + (len(found) > 12)
    if len(found) > 12:
        last = found.iloc[-1]
        at.selectbox(key="al_otra").set_value(f"{last['code']}|{last['crime_group']}").run()
        assert not at.exception
        title = json.loads(at.get("vega_lite_chart")[-1].proto.spec)["title"]["text"]
        assert " ".join(title) == f"{last['name']} (depto. de {last['department']})"
    # each trend marks the months of its alert and draws the expected count there
    first = found.iloc[0]
    proto = at.get("vega_lite_chart")[0].proto
    spec = json.loads(proto.spec)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks[:2] == ["line", "point"]
    datasets = {ds.name: pa.ipc.open_stream(ds.data.data).read_pandas() for ds in proto.datasets}
    marked = datasets[spec["layer"][1]["data"]["name"]]
    assert len(marked) == (3 if first["window"] == "trimestre" else 1)
    assert marked["n"].sum() == first["observed"]
    if "tick" in marks:
        assert marked["expected"].iloc[-1] == pytest.approx(first["expected"] / len(marked))
    assert spec["layer"][0]["encoding"]["x"]["axis"]["tickCount"] == "year"


def test_alerts_page_states_the_simulated_false_alerts(demo):
    at = run_app(page="alertas")
    assert not at.exception
    result = alerts.scan(Filters())
    assert result.excluded_years == (2020,) and result.tests == int(result.table["p_value"].notna().sum())
    assert any(f"daría en promedio {fmt.decimal(result.null_alerts, 2)} alertas" in i.value for i in at.info)
    tested = result.table["p_value"].notna()
    mean, se = _independent_null_alerts(result.table.loc[tested, "expected"], result.table.loc[tested, "variance"],
                                        alerts.DEFAULT_FDR, alerts.DEFAULT_MIN_COUNT, 300, seed=3)
    # both are simulations of the same null: they agree within their Monte Carlo error
    assert result.null_alerts == pytest.approx(mean, abs=4 * max(se, 0.01) * np.sqrt(2))
    assert metrics(at)["Alertas"] == fmt.integer(result.table["alert"].sum())
    at.multiselect(key="al_excluir").set_value([]).run()
    assert not at.exception and at.query_params["excluir"] == "ninguno"
    assert metrics(at)["Alertas"] == fmt.integer(alerts.scan(Filters(), excluded=()).table["alert"].sum())
    again = run_app({"excluir": "ninguno"}, page="alertas")
    assert again.multiselect(key="al_excluir").value == []


def test_baseline_with_cases_at_one_point_only_is_fitted_without_error():
    times = np.array([-(y) + d / 12 for y in (3, 2, 1) for d in (-1, 0, 1)])
    points = np.array([[0] * 8 + [6], [0] * 9, [2, 3, 1, 2, 4, 3, 5, 6, 4]])
    fit = alerts.fit_baseline(points, times, 3)
    assert fit.expected[0] == pytest.approx(6 / 9) and np.isnan(fit.trend[0])
    assert fit.expected[1] == 0
    assert np.isfinite(fit.expected[2])


def test_no_month_of_an_excluded_year_enters_the_baseline(history):
    # excluding 2019 too leaves 2018 alone: Nov 2018, Dec 2018 and Jan 2019 would bring a month of 2019
    r = alerts.scan(Filters(), excluded=(2019, 2020))
    alfa = pick(r, "0101", "Delitos contra el patrimonio", "mes")
    assert r.baseline_years == (2018,)
    assert alfa["expected"] == pytest.approx(np.mean([1, 3]))


def test_a_blanked_expected_count_takes_its_probability_and_z_with_it(history, public_mode):
    table = alerts.scan(Filters()).table
    # the same rows read as a sensitive group: an expected count below 5 is blanked, and with it
    # everything it could be recomputed from
    sensitive = alerts.protected(Filters(crime_types=("violacion",)), table.assign(crime_group="Violencia sexual"))
    blank = sensitive["expected"].isna() & table["expected"].notna()
    assert blank.any()
    assert sensitive.loc[blank, ["p_value", "q_value", "z", "variance"]].isna().all().all()
