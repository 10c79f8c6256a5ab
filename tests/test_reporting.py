"""HtmlReport: escaped, self-contained HTML with embedded figures, and the same content as JSON."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import doctest
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import unlearnkit.reporting
from unlearnkit.errors import DataValidationError
from unlearnkit.reporting import HtmlReport, format_value, jsonable, new_figure, write_json
from unlearnkit.requests import Reason

EVIL = '<script>alert("x")</script> & co'


def _figure():
    fig = new_figure(3, 2)
    ax = fig.subplots()
    ax.plot([1, 2, 3], [1, 10, 100])
    ax.set_yscale("log")
    return fig


@pytest.fixture
def report():
    rep = HtmlReport(f"Title {EVIL}", subtitle=f"sub {EVIL}", data={"answer": np.int64(42)})
    sec = rep.section(f"Heading {EVIL}")
    sec.paragraph(f"Paragraph {EVIL}")
    sec.table(
        [{"name": EVIL, "value": 0.123456789}, {"name": "b", "extra": np.float32(2.5)}],
        caption=f"Caption {EVIL}",
    )
    sec.table(pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan]}))
    rep.section("Plot").figure(_figure(), caption=f"Fig {EVIL}")
    return rep


def test_every_text_is_escaped(report):
    page = report.to_html()
    assert "<script>" not in page
    assert (
        page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co") == 9
    )  # title twice, subtitle, heading, text, caption, cell, figcaption, alt
    assert "<title>Title &lt;script&gt;" in page


def test_html_is_self_contained(report):
    page = report.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    assert "<link" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_figure_is_embedded_as_png_and_hashed_in_json(report):
    page = report.to_html()
    encoded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(encoded) == 1
    png = base64.b64decode(encoded[0])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    block = report.to_dict()["sections"][1]["blocks"][0]
    assert block["type"] == "figure"
    assert block["png_sha256"] == hashlib.sha256(png).hexdigest()
    assert "png_base64" not in block
    with_images = report.to_dict(include_images=True)["sections"][1]["blocks"][0]
    assert base64.b64decode(with_images["png_base64"]) == png


def test_tables_from_dicts_and_frames(report):
    blocks = report.to_dict()["sections"][0]["blocks"]
    dicts, frame = blocks[1], blocks[2]
    assert dicts["columns"] == ["name", "value", "extra"]  # first-appearance order
    assert dicts["rows"] == [
        {"name": EVIL, "value": 0.123456789, "extra": None},
        {"name": "b", "value": None, "extra": 2.5},
    ]
    assert frame["columns"] == ["a", "b"]
    assert frame["rows"] == [{"a": 1, "b": 0.5}, {"a": 2, "b": None}]
    page = report.to_html()
    assert '<td class="num">0.1235</td>' in page  # HTML rounds, JSON keeps full precision
    assert "<td></td>" in page  # missing and NaN cells are empty


def test_table_column_selection_and_float_format():
    rep = HtmlReport("t")
    rep.section("s").table(
        pd.DataFrame({"x": [1.23456], "y": ["a"], "z": [3]}),
        columns=["z", "x"],
        float_format="{:.2f}",
    )
    block = rep.to_dict()["sections"][0]["blocks"][0]
    assert block["columns"] == ["z", "x"]
    assert '<td class="num">1.23</td>' in rep.to_html()
    with pytest.raises(DataValidationError, match="'w'"):
        rep.section("bad").table(pd.DataFrame({"x": [1]}), columns=["w"])


def test_metrics_table_and_section_repr():
    rep = HtmlReport("t")
    sec = rep.section("m").metrics({"accuracy": 0.75, "exact": True})
    assert repr(sec) == "<Section 'm': 1 block>"
    assert rep.to_dict()["sections"][0]["blocks"][0]["rows"] == [
        {"metric": "accuracy", "value": 0.75},
        {"metric": "exact", "value": True},
    ]


def test_bad_blocks_raise_typed_errors():
    sec = HtmlReport("t").section("s")
    with pytest.raises(DataValidationError, match="list of dicts"):
        sec.table([1, 2, 3])
    with pytest.raises(DataValidationError, match="matplotlib Figure or PNG bytes"):
        sec.figure("plot.png")
    with pytest.raises(DataValidationError, match="PNG"):
        sec.figure(b"GIF89a")


def test_write_produces_json_equal_to_to_dict_and_utf8_html(report, tmp_path):
    json_path, html_path = report.write(tmp_path / "out", stem="audit")
    assert (json_path.name, html_path.name) == ("audit.json", "audit.html")
    assert json.loads(json_path.read_text(encoding="utf-8")) == report.to_dict()
    assert html_path.read_text(encoding="utf-8") == report.to_html()
    assert json.loads(json_path.read_text())["data"] == {"answer": 42}
    assert sorted(p.name for p in json_path.parent.iterdir()) == ["audit.html", "audit.json"]


@dataclasses.dataclass
class _Point:
    x: float
    when: dt.date


def test_jsonable_converts_scientific_and_standard_types(tmp_path):
    value = {
        "np": [np.int32(3), np.float64(0.25), np.bool_(True), np.array([[1, 2]])],
        "nan": [float("nan"), float("inf"), np.float64("-inf"), pd.NA, pd.NaT],
        "path": tmp_path,
        "reason": Reason.PRIVACY,
        "point": _Point(1.5, dt.date(2024, 5, 1)),
        "frame": pd.DataFrame({"a": [1], "b": ["x"]}),
        "series": pd.Series({"k": 2}),
        "set": {"b", "a"},
        7: None,
    }
    assert jsonable(value) == {
        "np": [3, 0.25, True, [[1, 2]]],
        "nan": [None, None, None, None, None],
        "path": str(tmp_path),
        "reason": "privacy",
        "point": {"x": 1.5, "when": "2024-05-01"},
        "frame": [{"a": 1, "b": "x"}],
        "series": {"k": 2},
        "set": ["a", "b"],
        "7": None,
    }
    path = write_json(tmp_path / "v.json", value)
    assert json.loads(path.read_text())["nan"] == [None] * 5


def test_format_value():
    assert format_value(np.float64(1 / 3)) == "0.3333"
    assert format_value(float("nan")) == ""
    assert format_value(Reason.BIAS) == "bias"
    assert format_value(True) == "True"


def test_building_a_report_leaves_pyplot_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # any pyplot import now fails
    fig = new_figure()
    fig.subplots().plot([1, 2])
    rep = HtmlReport("t")
    rep.section("s").figure(fig)
    assert rep.to_dict()["sections"][0]["blocks"][0]["png_bytes"] > 0


def test_docstring_examples_run():
    result = doctest.testmod(unlearnkit.reporting, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0


def test_module_docstring_example_file_is_valid_html(tmp_path):
    rep = HtmlReport("x")
    rep.section("s").paragraph("p")
    path = rep.write_html(tmp_path / "deep" / "x.html")
    assert Path(path).read_text().count("<section>") == 1
