"""Free-form reports without SQL: a ``ReportSpec`` (validated against whitelists) -> query -> table and chart.

Only identifiers written in this package reach the SQL; every value chosen by the user (years,
crime types, departments...) is checked against the values that exist in the warehouse and is
passed as a bound parameter. A spec that does not validate raises ``SpecError`` with a message
for the user, never anything else.

The builder is three modules: ``spec`` (what a report is and its validation), ``query`` (running it:
SQL, measure, protection, labels, totals) and ``chart`` (drawing it). This package gives their public
names to the pages.
"""
from core.reports.chart import chart, chart_image
from core.reports.query import Report, counts, grain_needs, person_years, run, with_totals
from core.reports.spec import (
    CHARTS,
    DIMENSIONS,
    MAX_TOP_N,
    MEASURES,
    NO_MUNICIPALITY,
    SORTS,
    WEEKDAYS,
    Dimension,
    ReportSpec,
    SpecError,
    measure_label,
    previous_label,
)

__all__ = ["CHARTS", "DIMENSIONS", "MAX_TOP_N", "MEASURES", "NO_MUNICIPALITY", "SORTS", "WEEKDAYS", "Dimension",
           "Report", "ReportSpec", "SpecError", "chart", "chart_image", "counts", "grain_needs", "measure_label",
           "person_years", "previous_label", "run", "with_totals"]
