"""Coverage flags: months and municipalities in which a source has no data, partial years.

On the fixture warehouse the police (pnc) have records in 01, 02, 03/2020 and 02, 07, 08, 09,
12/2021 (in all three municipalities); the forensic institute (inacif, homicides only) in
03/2020 and 05, 06/2021, never in Beta (0102).
"""
from __future__ import annotations

import pandas as pd
import pytest

from core import coverage, rates
from core.filters import Filters
from tests import fixture_warehouse
from tests.apptest import run_app

PNC_MONTHS = {"2020-01", "2020-02", "2020-03", "2021-02", "2021-07", "2021-08", "2021-09", "2021-12"}
INACIF_MONTHS = {"2020-03", "2021-05", "2021-06"}
ALL_MONTHS = {f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)}


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def months_of(gaps: pd.DataFrame, source: str) -> set[str]:
    return set(gaps.loc[gaps["source"] == source, "month"].dt.strftime("%Y-%m"))


def test_months_without_data_per_source(fixture):
    gaps = coverage.month_gaps(Filters())
    assert months_of(gaps, "pnc") == ALL_MONTHS - PNC_MONTHS
    assert months_of(gaps, "inacif") == ALL_MONTHS - INACIF_MONTHS
    assert set(gaps["institution"]) == {"Policía", "Forense"}
    # one year of the period only
    assert months_of(coverage.month_gaps(Filters(year_from=2021, year_to=2021)), "pnc") == \
        {m for m in ALL_MONTHS - PNC_MONTHS if m.startswith("2021")}


def test_only_sources_that_record_the_selected_crimes_count(fixture):
    assert coverage.relevant_sources(Filters(crime_types=("robo",))) == ["pnc"]
    assert coverage.relevant_sources(Filters(crime_types=("homicidio",))) == ["inacif", "pnc"]
    gaps = coverage.month_gaps(Filters(crime_types=("robo",)))
    assert set(gaps["source"]) == {"pnc"}


def test_year_flags_and_sentence(fixture):
    flags = coverage.year_flags(Filters())
    assert flags == {2020: "Forense: 11 mes(es) sin datos; Policía: 9 mes(es) sin datos",
                     2021: "Forense: 10 mes(es) sin datos; Policía: 7 mes(es) sin datos"}
    sentence = coverage.describe_month_gaps(Filters(crime_types=("robo",)), limit=3)
    assert sentence.startswith("Cobertura incompleta: Policía: 16 mes(es) sin datos (04/2020, 05/2020, 06/2020…)")


def test_municipalities_without_a_source(fixture):
    assert coverage.municipality_gaps(Filters()) == {"0102": "Sin datos de Forense"}
    assert coverage.municipality_gaps(Filters(crime_types=("robo",))) == {}


def test_complete_sources_give_no_flags(tmp_path, use_warehouse):
    rows = [("pnc", f"{y}-{m:02d}-10", code, "robo", "H", 30, True)
            for y in (2020, 2021) for m in range(1, 13) for code in ("0101", "0102", "0201")]
    use_warehouse(fixture_warehouse.build(tmp_path / "c.duckdb", incidents=rows))
    assert coverage.month_gaps(Filters()).empty
    assert coverage.describe_month_gaps(Filters()) is None
    assert coverage.year_flags(Filters()) == {}
    assert coverage.municipality_gaps(Filters()) == {}


def test_partial_year_is_labelled(tmp_path, use_warehouse):
    use_warehouse(fixture_warehouse.build(tmp_path / "p.duckdb", period_end="2021-06-30"))
    assert rates.year_label(2021) == "2021 (parcial)"
    assert rates.year_label(2020) == "2020"
    at = run_app()
    assert not at.exception
    assert any("2021" in i.value and "parcial" in i.value.lower() for i in at.info)
    assert any(m.label == "Víctimas en 2021 (parcial)" for m in at.metric)


def test_pages_mark_the_gaps(fixture):
    at = run_app()
    assert not at.exception
    assert any(w.value.startswith("Cobertura incompleta: Forense: 21 mes(es) sin datos") for w in at.warning)
    at = run_app({"muni": "0102"}, "municipio")
    assert not at.exception
    assert any("Sin datos de Forense" in w.value for w in at.warning)
    at = run_app({"nivel": "municipio"}, "mapa")
    assert not at.exception
    table = next(df.value for df in at.dataframe if "Cobertura" in df.value.columns)
    assert dict(zip(table["Código"], table["Cobertura"])) == \
        {"0101": "Completa", "0102": "Sin datos de Forense", "0201": "Completa"}
