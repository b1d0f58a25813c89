"""Pages draw what core/views.py gives them: no page decides what public mode hides, and no page
imports core.disclosure."""
from __future__ import annotations

import ast
from pathlib import Path

from core import disclosure, views
from core.filters import Filters

ROOT = Path(__file__).resolve().parent.parent
# What decides what public mode hides: only core may call these.
PROTECTION = {"protect", "protect_territories", "protect_crosstab", "rows_sensitive", "covers_sensitive",
              "count_text", "hides", "blank_if_small", "suppression_mask", "public_suppression_mask", "published",
              "published_count", "minors_only", "scope_types"}


def test_no_page_imports_disclosure():
    """Pages and app.py read protected tables from core.views and the mode from core.deployment."""
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "core" and any(a.name == "disclosure" for a in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, (ast.Import, ast.ImportFrom)) and "core.disclosure" in (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_no_page_calls_a_protection_function():
    offenders = []
    for path in [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in PROTECTION and isinstance(node.value, ast.Name)
                    and node.value.id == "disclosure"):
                offenders.append(f"{path.name}:{node.lineno} disclosure.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module == "core.disclosure":
                offenders += [f"{path.name}:{node.lineno} import {a.name}" for a in node.names if a.name in PROTECTION]
    assert not offenders, offenders


def test_a_sensitive_count_reads_reserved_in_public_mode_only(demo, monkeypatch):
    f = Filters(crime_types=("femicidio",))
    monkeypatch.setenv(disclosure.ENV_VAR, disclosure.PUBLIC)
    shown = views.count(f, 3)
    assert (shown.text, shown.hidden) == ("<5", True)
    assert views.count(Filters(crime_types=("robo",)), 3) == views.Count(3, "3", False)
    monkeypatch.setenv(disclosure.ENV_VAR, disclosure.INTERNAL)
    assert views.count(f, 3) == views.Count(3, "3", False)


def test_views_hide_in_public_mode_what_internal_mode_shows(demo, monkeypatch):
    f = Filters(crime_types=("femicidio",), year_from=2022, year_to=2022)
    monkeypatch.setenv(disclosure.ENV_VAR, disclosure.PUBLIC)
    public = views.municipalities(f)
    assert disclosure.is_suppressed(public["n"]).sum() > 20
    monkeypatch.setenv(disclosure.ENV_VAR, disclosure.INTERNAL)
    internal = views.municipalities(f)
    assert not disclosure.is_suppressed(internal["n"]).any()


def test_public_mode_blanks_what_a_fit_to_reserved_counts_would_give_back(demo, public_mode):
    """A spatially smoothed rate next to a reserved count, and a trend over years one of which is
    reserved, would give the count back by trying 1 to 4: they are blank."""
    from core import rates, spatial, views

    f = Filters(crime_types=("femicidio",), year_from=2021, year_to=2021)
    table = views.municipalities(f)
    hidden = set(table.loc[views.is_suppressed(table["n"]), "code"])
    assert hidden
    hood = spatial.neighbours("municipio")
    near = [c in hidden or any(o in hidden for o in hood[c]) for c in table["code"]]
    assert table.loc[near, "rate_seb"].isna().all()
    assert table.loc[[not n for n in near], "rate_seb"].notna().all()
    lethal = Filters(crime_groups=("Violencia letal",))
    trends = views.municipal_trends(lethal).set_index("code")
    yearly = rates.municipality_year_counts(lethal)
    small = yearly.apply(lambda row: row.between(1, 4).any(), axis=1)
    assert small.any() and (~small).any()
    assert trends.loc[small[small].index, "change"].isna().all()
    assert (trends.loc[small[small].index, "verdict"] == "").all()
    assert trends.loc[small[~small].index, "change"].notna().any()
    one_department = Filters(crime_types=("femicidio",), dept_code="10")
    assert (rates.yearly(one_department, by=None)["n"].between(1, 4).any()) == (views.national_trend(one_department) is None)
