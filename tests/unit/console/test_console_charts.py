"""The console's server-side SVG charts: accessible, escaped, and true to the figures they draw."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from services.console.charts import bar_chart, nine_steps

SVG = "{http://www.w3.org/2000/svg}"
NAMES = {"shown": "zichtbaar", "not_shown": "niet zichtbaar", "not_measurable": "niet te meten"}


def steps(*statuses: str) -> list[dict[str, object]]:
    return [{"step": n, "title": f"Stap {n}", "status": status} for n, status in enumerate(statuses, start=1)]


def test_the_nine_steps_are_nine_numbered_circles_coloured_by_status_in_an_image_with_a_label():
    markup = nine_steps(steps(*(["shown"] * 4 + ["not_shown"] * 3 + ["not_measurable"] * 2)), "De negen stappen",
                        NAMES)
    svg = ElementTree.fromstring(str(markup))  # well-formed XML
    assert svg.get("role") == "img" and svg.get("aria-label") == "De negen stappen"
    assert svg.find(f"{SVG}title").text == "De negen stappen"
    groups = svg.findall(f"{SVG}g")
    assert [g.find(f"{SVG}text").text for g in groups] == [str(n) for n in range(1, 10)]
    assert [g.get("class") for g in groups].count("step step-shown") == 4
    assert [g.get("class") for g in groups].count("step step-not-shown") == 3
    assert [g.get("class") for g in groups].count("step step-not-measurable") == 2
    # what cannot be measured differs by more than colour: a dashed outline
    dashed = [g.find(f"{SVG}circle").get("stroke-dasharray") for g in groups]
    assert dashed == [None] * 7 + ["4 3"] * 2
    assert groups[4].find(f"{SVG}title").text == "5. Stap 5: niet zichtbaar"


def test_the_circles_sit_in_order_on_one_path():
    svg = ElementTree.fromstring(str(nine_steps(steps(*["shown"] * 9), "x", NAMES)))
    xs = [int(c.get("cx")) for c in svg.iter(f"{SVG}circle")]
    assert xs == sorted(xs) and len(set(xs)) == 9
    line = svg.find(f"{SVG}line")
    assert int(line.get("x1")) == xs[0] and int(line.get("x2")) == xs[-1]


def test_text_from_data_is_escaped_in_every_chart():
    hostile = '<script>alert(1)</script>"'
    steps_svg = str(nine_steps([{"step": 1, "title": hostile, "status": "shown"}], hostile, NAMES))
    bars_svg = str(bar_chart([(hostile, 3)], hostile))
    for svg in (steps_svg, bars_svg):
        assert "<script>" not in svg and "&lt;script&gt;" in svg
        ElementTree.fromstring(svg)  # still well-formed: the quote did not break out of an attribute


def test_bars_are_as_long_as_their_value_relative_to_the_largest_and_carry_their_figure():
    svg = ElementTree.fromstring(str(bar_chart([("wereldcafé", 4), ("intervisie", 2), ("webinar", 0)],
                                               "Bijeenkomsten per werkvorm")))
    assert svg.get("role") == "img" and svg.get("aria-label") == "Bijeenkomsten per werkvorm"
    widths = [int(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    texts = [text.text for text in svg.iter(f"{SVG}text")]
    assert texts == ["wereldcafé", "4", "intervisie", "2", "webinar", "0"]


def test_an_empty_or_all_zero_chart_draws_without_dividing_by_zero():
    assert re.search(r"<svg[^>]+role=\"img\"", str(bar_chart([], "leeg")))
    assert 'width="0"' in str(bar_chart([("a", 0)], "nul"))
    assert "<circle" not in str(nine_steps([], "geen stappen", NAMES))


def test_a_fraction_is_written_with_one_decimal():
    assert ">10.3<" in str(bar_chart([("gemiddeld", 10.333)], "x"))
