"""High/medium/low classes: quantiles, Fisher-Jenks, mean +- sd, missing values, ties."""
import warnings

import mapclassify
import numpy as np
import pandas as pd
import pytest

from core import classify
from core.classify import NO_DATA, fisher_jenks


def test_quantiles_put_a_third_in_each_class():
    c = classify.classify(pd.Series(range(1, 10), dtype=float), "cuantiles", 3)
    assert list(c.labels) == ["Baja"] * 3 + ["Media"] * 3 + ["Alta"] * 3
    assert list(c.legend["count"]) == [3, 3, 3]
    assert c.legend["upper"].iloc[-1] == 9
    assert c.legend["lower"].iloc[0] is None or pd.isna(c.legend["lower"].iloc[0])
    assert c.legend["lower"].iloc[1] == pytest.approx(1 + 8 / 3)  # numpy's 33.3 % quantile of 1..9


def test_natural_breaks_find_separated_groups():
    values = pd.Series([1, 2, 3, 50, 51, 52, 100, 101], dtype=float)
    c = classify.classify(values, "jenks", 3)
    assert list(c.legend["upper"]) == [3, 52, 101]
    assert list(c.labels) == ["Baja"] * 3 + ["Media"] * 3 + ["Alta"] * 2


def test_mean_sd_bounds():
    values = pd.Series([0, 5, 9, 9, 9, 10, 10, 11, 11, 11, 15, 20], dtype=float)  # mean 10, sd 4.6
    mean, sd = values.mean(), values.std(ddof=0)
    c = classify.classify(values, "media_de", 3)
    assert list(c.legend["upper"]) == pytest.approx([mean - sd, mean + sd, 20])
    expected = ["Baja" if v <= mean - sd else "Media" if v <= mean + sd else "Alta" for v in values]
    assert list(c.labels) == expected and c.note is None
    five = classify.classify(values, "media_de", 5)
    assert five.legend["label"].tolist() == ["Muy baja", "Baja", "Media", "Alta", "Muy alta"]
    assert five.legend["count"].tolist() == [1, 1, 8, 1, 1] and five.labels.iloc[-1] == "Muy alta"
    assert list(five.legend["upper"]) == pytest.approx([mean - 2 * sd, mean - sd, mean + sd, mean + 2 * sd, 20])


def test_mean_sd_on_skewed_counts_keeps_bounds_in_the_data_and_shows_no_empty_class():
    # Counts of victims: mean 6.0, sd 11.6, so "mean - sd" is -5.6 (and -17.2 for 2 sd): nobody is there.
    counts = pd.Series([0, 0, 0, 1, 1, 2, 3, 5, 8, 40], dtype=float)
    mean, sd = counts.mean(), counts.std(ddof=0)
    assert mean - sd < 0
    for k in (3, 5):
        c = classify.classify(counts, "media_de", k)
        bounds = pd.concat([c.legend["lower"], c.legend["upper"]]).dropna()
        assert (bounds >= counts.min()).all() and (bounds <= counts.max()).all()
        assert (c.legend["count"] > 0).all() and c.legend["count"].sum() == len(counts)
        assert c.legend["upper"].iloc[-1] == 40
        # the classes left keep their meaning and their colour: 0 is within one sd of the mean
        assert c.labels.iloc[0] == "Media" and c.color_of("Media") == classify.PALETTES["incidencia"][k][k // 2]
        assert set(c.labels) == set(c.legend["label"])
    three = classify.classify(counts, "media_de", 3)
    assert three.legend["label"].tolist() == ["Media", "Alta"]
    assert three.legend["upper"].tolist() == pytest.approx([mean + sd, 40])
    assert three.note == "Ningún territorio cae en «Baja» (media ± desviación estándar): esa clase no se muestra."
    shown = [classify.range_text(lo, up, lambda v: f"{v:,.1f}")
             for lo, up in zip(three.legend["lower"], three.legend["upper"])]
    assert shown == ["hasta 17.6", "más de 17.6 a 40.0"]
    five = classify.classify(counts, "media_de", 5)
    assert five.legend["label"].tolist() == ["Media", "Muy alta"]  # 40 is more than 2 sd above the mean
    assert "«Muy baja», «Baja» ni «Alta»" in five.note


def test_mean_sd_leaves_out_an_empty_class_between_two_full_ones_with_its_interval():
    # mean 20, sd 9.2: nobody between 2 sd and 1 sd below the mean («Baja») nor 1 to 2 sd above («Alta»).
    values = pd.Series([0, 16, 18, 20, 20, 20, 20, 22, 24, 40], dtype=float)
    mean, sd = values.mean(), values.std(ddof=0)
    c = classify.classify(values, "media_de", 5)
    assert c.legend["label"].tolist() == ["Muy baja", "Media", "Muy alta"] and c.legend["count"].tolist() == [1, 8, 1]
    assert c.labels.tolist() == ["Muy baja"] + ["Media"] * 8 + ["Muy alta"]
    # each class keeps its own bounds: «Media» starts at mean - sd, not where «Muy baja» ends
    assert c.legend["lower"].tolist()[1:] == pytest.approx([mean - sd, mean + 2 * sd])
    assert c.legend["upper"].tolist() == pytest.approx([mean - 2 * sd, mean + sd, 40])
    assert c.note == ("Ningún territorio cae en «Baja» ni «Alta» (media ± desviación estándar): "
                      "esas clases no se muestran.")


def test_missing_values_have_no_class():
    values = pd.Series([5.0, None, 1.0, 9.0, np.nan, 3.0], index=list("abcdef"))
    c = classify.classify(values, "cuantiles", 3)
    assert c.labels["b"] == NO_DATA and c.labels["e"] == NO_DATA
    assert c.rank["b"] == -1
    assert c.legend.iloc[-1]["label"] == NO_DATA and c.legend.iloc[-1]["count"] == 2
    assert c.legend["count"].sum() == 6
    assert c.color_of(NO_DATA) == classify.NO_DATA_COLOR


def test_ties_and_constant_values_form_fewer_classes_and_say_so():
    few = classify.classify(pd.Series([0.0] * 8 + [1.0, 5.0]), "cuantiles", 5)
    assert few.note == "Solo hay 3 valor(es) distinto(s): se forman 3 clase(s) en lugar de 5."
    assert few.legend["count"].sum() == 10
    assert list(few.legend["label"]) == ["Muy baja", "Media", "Muy alta"]  # both ends kept
    ties = classify.classify(pd.Series([0.0] * 12 + [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), "cuantiles", 5)
    assert ties.note and "comparten el mismo valor" in ties.note
    assert (ties.labels.iloc[:12] == ties.labels.iloc[0]).all() and ties.legend["count"].sum() == 18
    constant = classify.classify(pd.Series([4.0, 4.0, 4.0]), "jenks", 3)
    assert set(constant.labels) == {"Baja"} and len(constant.legend) == 1 and constant.note
    empty = classify.classify(pd.Series([np.nan, np.nan]), "cuantiles", 3)
    assert set(empty.labels) == {NO_DATA}


@pytest.mark.parametrize("seed", range(6))
def test_fisher_jenks_matches_mapclassify(seed):
    rng = np.random.default_rng(seed)
    y = np.round(rng.lognormal(3, 1, int(rng.integers(20, 150))), int(rng.integers(0, 3)))
    k = int(rng.choice([3, 5]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = mapclassify.FisherJenks(y, k=k).bins
    assert fisher_jenks(y, k) == pytest.approx(expected)


def test_colors_follow_the_class_order():
    c = classify.classify(pd.Series(range(10), dtype=float), "cuantiles", 5, palette="prioridad")
    assert list(c.legend["color"]) == classify.PALETTES["prioridad"][5]
    assert classify.hex_to_rgba("#ff0080", 200) == [255, 0, 128, 200]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="método"):
        classify.classify(pd.Series([1.0]), "kmeans", 3)
    with pytest.raises(ValueError, match="clases"):
        classify.classify(pd.Series([1.0]), "cuantiles", 4)


def test_range_text():
    assert classify.range_text(None, 12.5, lambda x: f"{x:.1f}") == "hasta 12.5"
    assert classify.range_text(12.5, 30, lambda x: f"{x:.1f}") == "más de 12.5 a 30.0"


def test_fixed_thresholds_say_where_a_value_stands():
    values = pd.Series([1, 5, 10, 10.5, 19, 20, 25, None])
    c = classify.classify(values, "umbrales", 3, thresholds=(10, 20))
    assert c.labels.tolist() == ["Baja", "Baja", "Baja", "Media", "Media", "Media", "Alta", NO_DATA]
    shown = [classify.range_text(lo, up, lambda v: f"{v:g}") for lo, up in zip(c.legend["lower"], c.legend["upper"])]
    assert shown == ["hasta 10", "más de 10 a 20", "más de 20", "—"]
    # absolute, not relative: nobody above the top threshold leaves «Alta» empty (and says so)
    low = classify.classify(pd.Series([1.0, 2.0, 3.0]), "umbrales", 3, thresholds=(10, 20))
    assert low.legend["count"].tolist() == [3, 0, 0]
    five = classify.classify(values, "umbrales", 5, thresholds=(2, 10, 15, 20))
    assert five.labels.tolist()[:7] == ["Muy baja", "Baja", "Baja", "Media", "Alta", "Alta", "Muy alta"]
    with pytest.raises(ValueError, match="se necesitan 2 umbrales crecientes"):
        classify.classify(values, "umbrales", 3, thresholds=(20, 10))
    assert classify.parse_thresholds("10, 20") == (10.0, 20.0) and classify.parse_thresholds("10;20.5") == (10.0, 20.5)
    assert classify.parse_thresholds("20, 10") is None
    assert classify.parse_thresholds("diez") is None
    assert classify.parse_thresholds("") is None
