"""The data-quality page's reading of the warehouse (core/quality.py), checked against its tables.
(The reconciliation views are checked by hand in test_headline_figures.py and test_load_sources.py.)"""
import pandas as pd
import pytest

from core import deployment, quality, warehouse
from tests import fixture_warehouse


@pytest.fixture()
def fixture(tmp_path, use_warehouse):
    return use_warehouse(fixture_warehouse.build(tmp_path / "w.duckdb"))


def test_sources_add_up_and_speak_spanish(fixture):
    df = quality.sources()
    raw = warehouse.query("SELECT source, rows_read, rows_rejected, row_unit FROM source ORDER BY source")
    assert df["source"].tolist() == raw["source"].tolist()
    for got, row in zip(df.itertuples(), raw.itertuples()):
        if row.rows_read:
            assert got.reject_pct == pytest.approx(100 * row.rows_rejected / row.rows_read)
        else:  # a source written directly (no file read): no share
            assert pd.isna(got.reject_pct)
        assert got.row_unit == quality.ROW_UNIT_LABELS.get(row.row_unit, row.row_unit)
    assert set(df["row_unit"]) <= set(quality.ROW_UNIT_LABELS.values())


def test_completeness_is_the_share_of_records_with_the_field(fixture):
    df = quality.completeness()
    assert not df.empty
    assert (df["pct"] == 100 * df["filled"] / df["records"]).all()
    assert df["pct"].between(0, 100).all() and df["field_label"].notna().all()


def test_rule_labels_say_what_happened():
    assert quality._rule_label("rechazo:delito_vacio") == "Rechazo: delito vacio"
    assert quality._rule_label("sin_dato:hora_invalida") == "Valor pasado a «sin dato»: hora invalida"
    assert quality._rule_label("regla_nueva") == "Regla nueva"


def test_issue_examples_quote_records_only_in_internal_mode(fixture, monkeypatch):
    monkeypatch.setenv(deployment.ENV_VAR, deployment.INTERNAL)
    internal = quality.issues()
    monkeypatch.setenv(deployment.ENV_VAR, deployment.PUBLIC)
    public = quality.issues()
    assert len(internal) == len(public) == 3  # the fixture's findings
    assert (public["example"] == "(no se muestra en modo público: cita un registro)").all()
    assert (internal["example"] != public["example"]).any()
    assert list(internal["severity"].map(quality.SEVERITY_ORDER)) == sorted(internal["severity"].map(quality.SEVERITY_ORDER))


def test_data_tests_listed_are_the_ones_passed(fixture):
    df = quality.data_tests()
    assert df["name"].tolist() == sorted(warehouse.query("SELECT name FROM data_test")["name"])
    assert (df["rows_checked"] >= 0).all()
