"""The differencing attack: two published counts that differ by a hidden cell must not give it back.

An attacker who knows the method (core/cellkey.py: the noise table is public) reads published
views of the demo as the map and the report builder publish them, subtracts them along every
hierarchy a user can request, and keeps, for each hidden count («<5»), the values that every
published figure still allows. A cell is recovered when exactly one value remains and it is not zero (zeros identify nobody and
are published as such; a hidden zero can be pinned only when two adjustments both take their
extreme value, 2 chances in 256 each).

- crime: «Violencia letal» minus «Homicidio doloso» gives femicide, per municipality and year;
- time: 2013-Y minus 2013-(Y-1) gives year Y, per municipality (femicide);
- territory: a department minus its visible municipalities gives the hidden ones;
- sex: both sexes minus men gives women (sexual violence);
- age: every age minus the adult groups gives the minors (homicide);
- open data: the months of the download added up (lethal violence minus homicide) against the map;
- report builder: a table by municipality and crime type against the map.

In internal mode the same subtraction gives every small count exactly (negative control: the
attack works when nothing protects the counts).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import replace

import pandas as pd

from core import cellkey, disclosure, municipality, opendata, rates, reports
from core.filters import Filters, filter_options
from core.reports import ReportSpec

LETHAL = Filters(crime_groups=("Violencia letal",))
HOMICIDE = Filters(crime_types=("homicidio",))
FEMICIDE = Filters(crime_types=("femicidio",))
SEXUAL = Filters(crime_groups=("Violencia sexual",))
ADULT_AGES = ("18-29", "30-44", "45-59", "60+", "ND")
MINOR_AGES = ("0-11", "12-17")


Interval = tuple[float, float]
ANY: Interval = (0, float("inf"))  # a «<5» may also be a larger cell hidden so that a total gives nothing back


def candidates(published) -> Interval:
    """The true counts a published figure allows, knowing the noise table (always a range)."""
    if published == disclosure.SUPPRESSED:
        return ANY
    p = int(published)
    allowed = [n for n in range(max(p - cellkey.MAX_ADJUSTMENT, 0), p + cellkey.MAX_ADJUSTMENT + 1)
               if (p - n) in cellkey.noise_distribution(n) and (n == 0) == (p == 0)]
    assert allowed == list(range(allowed[0], allowed[-1] + 1))
    return allowed[0], allowed[-1]


def minus(a: Interval, b: Interval) -> Interval:
    return a[0] - b[1], a[1] - b[0]


def plus(intervals) -> Interval:
    lo = hi = 0
    for a, b in intervals:
        lo, hi = lo + a, hi + b
    return lo, hi


def map_view(f: Filters, year_from: int, year_to: int, level: str = "municipio") -> pd.Series:
    """The map's table as it is published (what app_pages/mapa.py draws), by territory code."""
    f = replace(f, year_from=year_from, year_to=year_to)
    table = rates.by_municipality(f) if level == "municipio" else rates.by_department(f)
    return disclosure.protect_territories(f, table).set_index("code")["n"]


@contextlib.contextmanager
def internal():
    """What the warehouse holds (the attacker never sees it: it checks the attacker's reasoning)."""
    before = os.environ[disclosure.ENV_VAR]
    os.environ[disclosure.ENV_VAR] = disclosure.INTERNAL
    try:
        yield
    finally:
        os.environ[disclosure.ENV_VAR] = before


def true_counts(f: Filters, year_from: int, year_to: int) -> pd.Series:
    with internal():
        return rates.by_municipality(replace(f, year_from=year_from, year_to=year_to)).set_index("code")["n"]


class Attack:
    def __init__(self):
        self.hidden = 0
        self.recovered: list[str] = []

    def target(self, where: str, shown, allowed: Interval, truth: int) -> None:
        """A hidden cell ``shown`` (as published), the values the differences allow, its truth."""
        if shown != disclosure.SUPPRESSED:
            return
        self.hidden += 1
        lo, hi = max(allowed[0], 0), allowed[1]
        assert lo <= truth <= hi, f"{where}: the attacker's reasoning excluded the truth {truth} ({lo}..{hi})"
        if lo == hi and truth > 0:  # a zero identifies nobody (zeros are published as such)
            self.recovered.append(f"{where} = {truth}")


def run_attacks(period: range) -> dict[str, Attack]:
    attacks = {name: Attack() for name in ("crime", "time", "territory", "sex", "age", "download", "report")}
    first = period[0]
    for year in period:
        lethal, homicide, femicide = (map_view(f, year, year) for f in (LETHAL, HOMICIDE, FEMICIDE))
        truth = true_counts(FEMICIDE, year, year)
        for code in femicide.index:
            attacks["crime"].target(f"femicidio {code} {year}", femicide[code],
                                    minus(candidates(lethal[code]), candidates(homicide[code])), int(truth[code]))
        if year > first:
            upto, before = map_view(FEMICIDE, first, year), map_view(FEMICIDE, first, year - 1)
            for code in femicide.index:
                attacks["time"].target(f"femicidio {code} {year} (por rangos)", femicide[code],
                                       minus(candidates(upto[code]), candidates(before[code])), int(truth[code]))
        depts = map_view(FEMICIDE, year, year, "departamento")
        munis = rates.municipalities_by_code().set_index("code")["dept_code"]
        for dept, members in munis.groupby(munis).groups.items():
            hidden = [c for c in members if femicide[c] == disclosure.SUPPRESSED]
            if len(hidden) == 1:
                visible = plus(candidates(femicide[c]) for c in members if c not in hidden)
                attacks["territory"].target(f"femicidio {hidden[0]} {year} (por departamento)", femicide[hidden[0]],
                                            minus(candidates(depts[dept]), visible), int(truth[hidden[0]]))
        both, men = map_view(SEXUAL, year, year), map_view(replace(SEXUAL, sexes=("H",)), year, year)
        women = map_view(replace(SEXUAL, sexes=("M",)), year, year)
        women_truth = true_counts(replace(SEXUAL, sexes=("M",)), year, year)
        for code in women.index:
            attacks["sex"].target(f"violencia sexual contra mujeres {code} {year}", women[code],
                                  minus(candidates(both[code]), candidates(men[code])), int(women_truth[code]))
        every_age, adults = map_view(HOMICIDE, year, year), map_view(replace(HOMICIDE, age_groups=ADULT_AGES), year, year)
        minors = map_view(replace(HOMICIDE, age_groups=MINOR_AGES), year, year)
        minors_truth = true_counts(replace(HOMICIDE, age_groups=MINOR_AGES), year, year)
        for code in minors.index:
            attacks["age"].target(f"homicidio de menores {code} {year}", minors[code],
                                  minus(candidates(every_age[code]), candidates(adults[code])), int(minors_truth[code]))
    # open-data download (municipality x month x type x sex x age): the months of a year added up,
    # lethal violence minus homicide, against the map
    year = period[-1]
    fine = opendata.municipality_month(replace(LETHAL, year_from=year, year_to=year))
    fine = fine.assign(interval=[candidates(v) for v in fine[opendata.count_field(LETHAL)]])
    lethal_sum = fine.groupby("codigo_municipio")["interval"].agg(lambda s: plus(s))
    homicide_sum = fine[fine["tipo_delito"] == "homicidio"].groupby("codigo_municipio")["interval"].agg(lambda s: plus(s))
    femicide, truth = map_view(FEMICIDE, year, year), true_counts(FEMICIDE, year, year)
    for code in femicide.index:
        attacks["download"].target(f"femicidio {code} {year} (datos abiertos)", femicide[code],
                                   minus(lethal_sum.get(code, (0, 0)), homicide_sum.get(code, (0, 0))), int(truth[code]))
    # report builder: lethal violence by municipality and crime type in one table, against the map
    spec = ReportSpec(measure="n", dims=("municipality", "crime_type"),
                      filters=replace(LETHAL, year_from=year, year_to=year))
    table = reports.run(spec).data
    lethal = map_view(LETHAL, year, year)
    truth = true_counts(FEMICIDE, year, year)
    names = municipality.municipalities().set_index("label")["code"]
    for _, row in table.iterrows():
        code = names.get(row["Municipio"])
        if code is None or row["Tipo de delito"] != "Femicidio":
            continue
        homicide_row = table[(table["Municipio"] == row["Municipio"]) & (table["Tipo de delito"] == "Homicidio doloso")]
        homicide = candidates(homicide_row["Víctimas"].iloc[0]) if len(homicide_row) else (0, 0)
        attacks["report"].target(f"femicidio {code} {year} (informe)", row["Víctimas"],
                                 minus(candidates(lethal[code]), homicide), int(truth[code]))
    return attacks


def test_no_hidden_count_is_recovered_by_differencing(demo, public_mode):
    opts = filter_options()
    attacks = run_attacks(range(opts.min_year, opts.max_year + 1))
    report = {name: (a.hidden, len(a.recovered)) for name, a in attacks.items()}
    print("celdas reservadas y recuperadas por jerarquía:", report)
    for name in ("crime", "time", "sex", "age"):
        assert attacks[name].hidden >= 50, f"{name}: the demo should hide many cells ({attacks[name].hidden})"
    assert attacks["report"].hidden > 0 and attacks["download"].hidden > 0
    recovered = [r for a in attacks.values() for r in a.recovered]
    assert not recovered, f"{len(recovered)} cifras reservadas recuperadas: {recovered[:10]}"


def test_the_same_attack_recovers_every_small_count_in_internal_mode(demo):
    """Negative control: without protection, the subtraction is exact."""
    opts = filter_options()
    exact = 0
    for year in range(opts.min_year, opts.max_year + 1):
        lethal, homicide, femicide = (map_view(f, year, year) for f in (LETHAL, HOMICIDE, FEMICIDE))
        small = femicide[(femicide > 0) & (femicide < disclosure.MIN_COUNT)]
        assert ((lethal - homicide)[small.index] == small).all()
        exact += len(small)
    assert exact >= 100


def test_public_counts_are_consistent_whichever_way_they_are_asked(demo, public_mode):
    """The same victims get the same noise: a total asked with no crime filter and with every
    crime type listed is the same published number (repeating a question averages nothing)."""
    opts = filter_options()
    year = opts.max_year
    every = Filters(year_from=year, year_to=year)
    listed = replace(every, crime_types=tuple(sorted(opts.crime_type_names)))
    assert rates.total_count(every) == rates.total_count(listed)
    a, b = rates.by_municipality(every), rates.by_municipality(listed)
    assert (a["n"] == b["n"]).all()
    with internal():
        exact = rates.by_municipality(every)
    with_noise = rates.by_municipality(every)
    changed = (exact["n"] != with_noise["n"]).mean()
    assert 0.4 < changed < 0.9, changed
    assert (exact["n"] - with_noise["n"]).abs().max() <= cellkey.MAX_ADJUSTMENT
    assert ((exact["n"] == 0) == (with_noise["n"] == 0)).all()
