"""Reports for people and machines: one self-contained HTML file and a JSON twin.

An :class:`HtmlReport` has a title, free-form machine-readable ``data`` and sections made of
paragraphs, tables (from lists of dicts or DataFrames) and matplotlib figures. ``to_html``
renders a single HTML file with inline CSS and figures embedded as base64 PNG (it opens offline
and can be mailed as one attachment); every piece of text is HTML-escaped. ``to_dict`` /
``write_json`` give the same content as JSON: tables as rows, figures by caption and PNG hash
(the image bytes too with ``include_images=True``).

Figures are rendered to PNG with matplotlib's Agg renderer. :func:`new_figure` makes a
:class:`matplotlib.figure.Figure` outside pyplot, so building a report never touches pyplot's
global state or the interactive backend.

Examples
--------
>>> import tempfile
>>> from unlearnkit.reporting import HtmlReport, new_figure
>>> report = HtmlReport("Erasure audit", data={"requests": 3, "guarantee": "exact"})
>>> results = report.section("Results")
>>> results.paragraph("All <3> requests were honoured.")
<Section 'Results': 1 block>
>>> results.table([{"client": 17, "seconds": 0.000123}, {"client": 42, "seconds": 0.5}])
<Section 'Results': 2 blocks>
>>> fig = new_figure(4, 3)
>>> _ = fig.subplots().plot([1, 2, 3], [3, 1, 2])
>>> report.section("Timing").figure(fig, caption="Seconds per request")
<Section 'Timing': 1 block>
>>> html = report.to_html()
>>> "All &lt;3&gt; requests" in html, html.count("data:image/png;base64,")
(True, 1)
>>> report.to_dict()["sections"][0]["blocks"][1]["rows"]
[{'client': 17, 'seconds': 0.000123}, {'client': 42, 'seconds': 0.5}]
>>> json_path, html_path = report.write(tempfile.mkdtemp())
>>> json_path.name, html_path.name
('report.json', 'report.html')
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import enum
import hashlib
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from unlearnkit.errors import DataValidationError

__all__ = ["HtmlReport", "Section", "format_value", "jsonable", "new_figure", "write_json"]


def new_figure(width: float = 6.4, height: float = 4.0, *, dpi: float = 100) -> Figure:
    """A matplotlib :class:`~matplotlib.figure.Figure` that lives outside pyplot.

    It needs no ``plt.close`` and leaves the pyplot backend alone; :meth:`Section.figure`
    renders it with Agg.

    Examples
    --------
    >>> fig = new_figure(3, 2)
    >>> ax = fig.subplots()
    >>> fig.get_size_inches().tolist()
    [3.0, 2.0]
    """
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy and pandas values unwrapped, NaN/inf as None.

    Paths become strings, dates ISO 8601 strings, enums their value, dataclasses and objects
    with ``to_dict()`` dicts; anything else its ``str``.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.float64(0.5), "b": np.arange(2), "c": float("nan"), 3: (1, None)})
    {'a': 0.5, 'b': [0, 1], 'c': None, '3': [1, None]}
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    return str(value)


def _atomic_write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike[str], data: Any, *, indent: int = 2) -> Path:
    """Write ``jsonable(data)`` to ``path`` (atomically, strict JSON: no NaN) and return it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_json(pathlib.Path(tempfile.mkdtemp()) / "x.json", {"ratio": float("inf")})
    >>> p.read_text()
    '{\\n  "ratio": null\\n}\\n'
    """
    text = json.dumps(jsonable(data), indent=indent, allow_nan=False, ensure_ascii=False)
    return _atomic_write(Path(path), (text + "\n").encode("utf-8"))


def format_value(value: Any, float_format: str = "{:.4g}") -> str:
    """How a table cell is shown in HTML: floats via ``float_format``, missing as empty.

    Examples
    --------
    >>> format_value(0.000123456), format_value(float("nan")), format_value(12), format_value(None)
    ('0.0001235', '', '12', '')
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else float_format.format(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


# -- blocks -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Paragraph:
    text: str

    def to_dict(self, include_images: bool) -> dict[str, Any]:
        return {"type": "paragraph", "text": self.text}

    def to_html(self) -> str:
        return f"<p>{html.escape(self.text)}</p>"


@dataclasses.dataclass(frozen=True)
class _Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str | None
    float_format: str

    def to_dict(self, include_images: bool) -> dict[str, Any]:
        return {
            "type": "table",
            "caption": self.caption,
            "columns": list(self.columns),
            "rows": [jsonable(dict(zip(self.columns, row, strict=True))) for row in self.rows],
        }

    def to_html(self) -> str:
        out = ["<table>"]
        if self.caption:
            out.append(f"<caption>{html.escape(self.caption)}</caption>")
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        out.append(f"<thead><tr>{head}</tr></thead><tbody>")
        for row in self.rows:
            cells = []
            for value in row:
                numeric = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
                cls = ' class="num"' if numeric else ""
                cells.append(f"<td{cls}>{html.escape(format_value(value, self.float_format))}</td>")
            out.append(f"<tr>{''.join(cells)}</tr>")
        out.append("</tbody></table>")
        return "".join(out)


@dataclasses.dataclass(frozen=True)
class _Figure:
    png: bytes
    caption: str | None
    alt: str

    def to_dict(self, include_images: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "figure",
            "caption": self.caption,
            "alt": self.alt,
            "png_sha256": hashlib.sha256(self.png).hexdigest(),
            "png_bytes": len(self.png),
        }
        if include_images:
            out["png_base64"] = base64.b64encode(self.png).decode("ascii")
        return out

    def to_html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        caption = f"<figcaption>{html.escape(self.caption)}</figcaption>" if self.caption else ""
        alt = html.escape(self.alt, quote=True)
        return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">{caption}</figure>'


_Block = _Paragraph | _Table | _Figure


class Section:
    """A headed part of a report; add blocks with :meth:`paragraph`, :meth:`table`,
    :meth:`metrics` and :meth:`figure` (each returns the section, so calls chain)."""

    def __init__(self, heading: str) -> None:
        self.heading = str(heading)
        self.blocks: list[_Block] = []

    def __repr__(self) -> str:
        n = len(self.blocks)
        return f"<Section {self.heading!r}: {n} block{'s' if n != 1 else ''}>"

    def paragraph(self, text: str) -> Self:
        """Add a paragraph of plain text (escaped, never interpreted as HTML)."""
        self.blocks.append(_Paragraph(str(text)))
        return self

    def table(
        self,
        rows: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        columns: Sequence[str] | None = None,
        caption: str | None = None,
        float_format: str = "{:.4g}",
    ) -> Self:
        """Add a table from a DataFrame or a list of dicts.

        Parameters
        ----------
        rows : DataFrame or sequence of mappings
            One mapping per row; a key missing from a row is an empty cell.
        columns : sequence of str, optional
            Which columns, in which order (default: the DataFrame's columns, or the keys in
            order of first appearance).
        caption : str, optional
            Shown above the table.
        float_format : str
            ``str.format`` pattern for floats in HTML; JSON keeps full precision.
        """
        if isinstance(rows, pd.DataFrame):
            frame = rows
            cols = [str(c) for c in (columns if columns is not None else frame.columns)]
            names = {str(c): c for c in frame.columns}
            missing = [c for c in cols if c not in names]
            if missing:
                raise DataValidationError(
                    f"Table columns {missing} are not in the DataFrame; it has {list(names)}."
                )
            data = tuple(
                tuple(_plain(v) for v in rec)
                for rec in frame[[names[c] for c in cols]].itertuples(index=False, name=None)
            )
        else:
            records = list(rows)
            if not all(isinstance(r, Mapping) for r in records):
                raise DataValidationError(
                    "A table needs a DataFrame or a list of dicts (one dict per row)."
                )
            if columns is None:
                seen: dict[str, None] = {}
                for rec in records:
                    seen.update(dict.fromkeys(str(k) for k in rec))
                cols = list(seen)
            else:
                cols = [str(c) for c in columns]
            keyed = [{str(k): v for k, v in rec.items()} for rec in records]
            data = tuple(tuple(_plain(rec.get(c)) for c in cols) for rec in keyed)
        self.blocks.append(_Table(tuple(cols), data, caption, float_format))
        return self

    def metrics(
        self, values: Mapping[str, Any], *, caption: str | None = None, float_format: str = "{:.4g}"
    ) -> Self:
        """Add a two-column ``metric | value`` table from a mapping."""
        rows = [{"metric": str(k), "value": v} for k, v in values.items()]
        return self.table(
            rows, columns=["metric", "value"], caption=caption, float_format=float_format
        )

    def figure(
        self,
        figure: Figure | bytes,
        *,
        caption: str | None = None,
        alt: str | None = None,
        dpi: float = 110,
    ) -> Self:
        """Add a matplotlib figure (rendered to PNG with Agg) or ready PNG bytes."""
        if isinstance(figure, (bytes, bytearray)):
            png = bytes(figure)
            if not png.startswith(b"\x89PNG\r\n\x1a\n"):
                raise DataValidationError("Figure bytes must be a PNG image.")
        elif isinstance(figure, Figure):
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi)
            png = buffer.getvalue()
        else:
            raise DataValidationError(
                f"A figure must be a matplotlib Figure or PNG bytes, got {type(figure).__name__}."
            )
        self.blocks.append(_Figure(png, caption, alt or caption or self.heading))
        return self

    def to_dict(self, include_images: bool = False) -> dict[str, Any]:
        return {
            "heading": self.heading,
            "blocks": [b.to_dict(include_images) for b in self.blocks],
        }

    def to_html(self) -> str:
        body = "\n".join(b.to_html() for b in self.blocks)
        return f"<section>\n<h2>{html.escape(self.heading)}</h2>\n{body}\n</section>"


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.5}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
border-bottom:1px solid #d0d7de;padding-bottom:.2rem}.meta{color:#59636e;font-size:.9rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}caption{text-align:left;
font-weight:600;padding-bottom:.3rem}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;
text-align:left}th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}img{max-width:100%;height:auto}figcaption{color:#59636e;font-size:.9rem}
""".strip()


class HtmlReport:
    """A report with a title, machine-readable ``data`` and sections.

    Parameters
    ----------
    title : str
        The page title and top heading.
    subtitle : str, optional
        A line under the title.
    data : mapping, optional
        Machine-readable results (a summary dict, say); written to JSON only.

    Attributes
    ----------
    sections : list of Section
    created : str
        UTC time the report object was made, ISO 8601.

    Examples
    --------
    >>> report = HtmlReport("Demo <1>", subtitle="a test")
    >>> report.section("Numbers").metrics({"accuracy": 0.8123456, "n": 10})
    <Section 'Numbers': 1 block>
    >>> html = report.to_html()
    >>> html.startswith("<!DOCTYPE html>"), "<title>Demo &lt;1&gt;</title>" in html
    (True, True)
    >>> "<td class=\\"num\\">0.8123</td>" in html
    True
    """

    def __init__(
        self,
        title: str,
        *,
        subtitle: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        self.title = str(title)
        self.subtitle = subtitle
        self.data: dict[str, Any] = dict(data or {})
        self.sections: list[Section] = []
        self.created = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")

    def section(self, heading: str) -> Section:
        """Append a new section and return it."""
        sec = Section(heading)
        self.sections.append(sec)
        return sec

    def to_dict(self, *, include_images: bool = False) -> dict[str, Any]:
        """The report as JSON-ready data: title, created, data and sections."""
        return jsonable(
            {
                "title": self.title,
                "subtitle": self.subtitle,
                "created": self.created,
                "data": self.data,
                "sections": [s.to_dict(include_images) for s in self.sections],
            }
        )

    def to_html(self) -> str:
        """The report as one self-contained HTML document."""
        title = html.escape(self.title)
        sub = f'<p class="meta">{html.escape(self.subtitle)}</p>\n' if self.subtitle else ""
        body = "\n".join(s.to_html() for s in self.sections)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{title}</h1>\n{sub}"
            f'<p class="meta">Generated {html.escape(self.created)}</p>\n'
            f"{body}\n</body>\n</html>\n"
        )

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path`` (atomically) and return the path."""
        return _atomic_write(Path(path), self.to_html().encode("utf-8"))

    def write_json(self, path: str | os.PathLike[str], *, include_images: bool = False) -> Path:
        """Write :meth:`to_dict` to ``path`` as JSON (atomically) and return the path."""
        return write_json(path, self.to_dict(include_images=include_images))

    def write(
        self, directory: str | os.PathLike[str], *, stem: str = "report"
    ) -> tuple[Path, Path]:
        """Write ``<stem>.json`` and ``<stem>.html`` into ``directory``; return both paths."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        return self.write_json(folder / f"{stem}.json"), self.write_html(folder / f"{stem}.html")
