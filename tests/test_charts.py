"""What every chart shares (core/charts.py): safe field names, distinct colours, legends never cut."""
import json
import re

import altair as alt
import pandas as pd
import vl_convert as vlc

from core import charts


def test_palette_colours_are_distinct_and_enough_for_every_department():
    assert len(set(charts.PALETTE)) == len(charts.PALETTE) >= 22


def test_safe_fields_rename_columns_vega_would_read_as_paths():
    df = pd.DataFrame({"Tasa por 100,000 hab.": [1.5, 2.5], "a[0]": [1, 2], "x\\y": ["u", "v"]})
    safe, fields = charts.safe_fields(df)
    assert fields == {"Tasa por 100,000 hab.": "f0", "a[0]": "f1", "x\\y": "f2"}
    assert list(safe.columns) == ["f0", "f1", "f2"] and safe["f0"].tolist() == [1.5, 2.5]
    assert list(df.columns)[0] == "Tasa por 100,000 hab."  # the original is left alone


def test_a_rate_chart_drawn_from_safe_fields_has_its_marks():
    """The defect the module exists for: with the label as field name the bars were not drawn."""
    df = pd.DataFrame({"Año": ["2020", "2021"], "Tasa por 100,000 hab.": [10.0, 12.5]})
    safe, fields = charts.safe_fields(df)
    chart = alt.Chart(safe).mark_bar().encode(x=alt.X(f"{fields['Año']}:N", title="Año"),
                                              y=alt.Y(f"{fields['Tasa por 100,000 hab.']}:Q", title="Tasa"))
    svg = vlc.vegalite_to_svg(json.dumps(chart.to_dict()))
    heights = [float(h) for h in re.findall(r'aria-roledescription="bar" d="M[^"]*?v([0-9.]+)h', svg)]
    assert len(heights) == 2 and min(heights) > 0  # with the label as field name: no bar at all
    unsafe = alt.Chart(df).mark_bar().encode(x="Año:N", y="Tasa por 100,000 hab.:Q")
    assert 'aria-roledescription="bar"' not in vlc.vegalite_to_svg(json.dumps(unsafe.to_dict()))


def test_category_colours_follow_the_domain_and_long_legends_go_below():
    domain = [f"Depto {i}" for i in range(22)]
    color = charts.category_color("f0", "Departamento", domain).to_dict()
    assert color["scale"]["domain"] == domain
    assert color["scale"]["range"] == list(charts.PALETTE[:22]) and len(set(color["scale"]["range"])) == 22
    assert color["legend"]["orient"] == "bottom" and color["legend"]["labelLimit"] == 0
    short = charts.category_color("f0", "Sexo", ["Hombres", "Mujeres"]).to_dict()
    assert short["scale"]["range"] == list(charts.PALETTE[:2]) and short["legend"]["columns"] == 1
    many = charts.category_color("f0", "Tipo", [str(i) for i in range(40)]).to_dict()
    assert len(many["scale"]["range"]) == 40  # colours repeat past the palette; the legend still names each
