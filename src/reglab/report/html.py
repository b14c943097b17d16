"""Self-contained HTML reports for ``reglab compare`` and ``reglab sweep``.

:func:`write_report` writes one HTML file that opens offline and can be mailed or
attached as it is: the CSS is inline, there is no JavaScript, no external font,
script or link, and every figure is embedded as a ``data:image/png;base64`` URI.
Every piece of text is passed through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
import re
import struct
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .._validation import InputError, describe

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# strings that read as numbers ("94.8%", "-0.3", "1,024", "+2.1 pp", "0.93 ± 0.01") are right-aligned
_NUMERIC = re.compile(r"^[+\-−]?(\d[\d,]*\.?\d*|\.\d+)([eE][+\-]?\d+)?\s*(%|pp|points?|s)?"
                      r"(\s*±\s*\d[\d,]*\.?\d*\s*(%|pp)?)?$")

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --zebra: #f6f8fa; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink); line-height: 1.55;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 72rem; margin: 0 auto; padding: 2.5rem 1.25rem 1rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 .75rem; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 .75rem; padding-bottom: .3rem;
  border-bottom: 1px solid var(--line); }
p { margin: .6rem 0; max-width: 46rem; }
.intro { font-size: 1.05rem; color: var(--muted); }
nav { margin: 1.25rem 0; padding: .75rem 1rem; background: var(--zebra); border-radius: 6px; }
nav ol { margin: .25rem 0; padding-left: 1.4rem; }
a { color: var(--accent); }
.table-wrap { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-size: .92rem; min-width: 50%; }
caption { caption-side: top; text-align: left; color: var(--muted); padding-bottom: .4rem; }
th, td { padding: .4rem .8rem; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: #eef1f4; font-weight: 600; border-bottom: 2px solid #c5ccd3; }
tbody tr:nth-child(even) { background: var(--zebra); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.num .pm { white-space: nowrap; }
.opt { white-space: nowrap; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--zebra);
  padding: .05rem .3rem; border-radius: 3px; }
ul.items { max-width: 50rem; padding-left: 1.3rem; }
ul.items li { margin: .45rem 0; }
@media (max-width: 60rem) {
  main { padding: 1.5rem .75rem 1rem; }
  table { font-size: .85rem; }
  th, td { padding: .35rem .45rem; }
  /* a value and its interval may stack, so that wide tables fit a narrow window */
  td.num { white-space: normal; }
  td.num .pm { display: block; color: var(--muted); font-size: .9em; }
}
figure { margin: 1.5rem 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto;
  border: 1px solid var(--line); border-radius: 4px; }
figure.wide { width: min(94vw, 110rem); position: relative; left: 50%; transform: translateX(-50%); }
figcaption { color: var(--muted); font-size: .92rem; margin-top: .4rem; text-align: center; }
footer { max-width: 72rem; margin: 3rem auto 0; padding: 1rem 1.25rem 2rem; color: var(--muted);
  font-size: .85rem; border-top: 1px solid var(--line); }
@media print { figure, table { break-inside: avoid; } nav { display: none; } }
"""


@dataclass
class Table:
    """A table of a report.

    Parameters
    ----------
    columns : list of str, the header.
    rows : list of rows, each a list of ``len(columns)`` cells (str, int or float).
        Numbers are formatted (:func:`format_cell`) and right-aligned, as are
        strings that read as numbers (``"94.8%"``).
    caption : str, shown above the table.
    """

    columns: list
    rows: list
    caption: str = ""

    def __post_init__(self):
        if not isinstance(self.columns, (list, tuple)) or not self.columns:
            raise InputError(f"columns must be a non-empty list of str, got {describe(self.columns)}")
        if not isinstance(self.rows, (list, tuple)):
            raise InputError(f"rows must be a list of lists, got {describe(self.rows)}")
        for i, row in enumerate(self.rows):
            if not isinstance(row, (list, tuple)) or len(row) != len(self.columns):
                raise InputError(f"rows[{i}] must be a list of {len(self.columns)} cells "
                                 f"(one per column), got {describe(row)}")


@dataclass
class Section:
    """A section of a report: a heading, then text, a table and figures.

    Parameters
    ----------
    heading : str
    text : str, plain text; paragraphs are separated by blank lines.
    table : Table or None
    images : list of ``(caption, path)`` to PNG files, embedded in the report.
    items : list of str, a bulleted list after the text (the takeaways).
    """

    heading: str
    text: str = ""
    table: Table | None = None
    images: list = field(default_factory=list)
    items: list = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.heading, str) or not self.heading.strip():
            raise InputError(f"heading must be a non-empty string, got {describe(self.heading)}")
        if not isinstance(self.text, str):
            raise InputError(f"text must be a string, got {describe(self.text)}")
        if self.table is not None and not isinstance(self.table, Table):
            raise InputError(f"table must be a Table or None, got {describe(self.table)}")
        if not isinstance(self.items, (list, tuple)) or not all(isinstance(i, str) for i in self.items):
            raise InputError(f"items must be a list of strings, got {describe(self.items)}")
        for i, item in enumerate(self.images):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise InputError(f"images[{i}] must be a (caption, path) pair, got {describe(item)}")


def format_cell(value) -> str:
    """Text of a table cell: integers with thousands separators, floats with 4
    significant digits (scientific outside ``1e-3 .. 1e6``), NaN as an en dash."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    value = float(value)
    if math.isnan(value):
        return "–"
    if value == 0 or math.isinf(value) or 1e-3 <= abs(value) < 1e6:
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return f"{value:.3e}"


def _is_numeric(value) -> bool:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and bool(_NUMERIC.match(value.strip()))


def _inline(text: str) -> str:
    """Escaped text in which ```code``` spans become ``<code>`` elements and command-line
    options (``--baseline``) are kept whole on one line."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
    return re.sub(r"(?<![\w-])(--[a-z][\w-]*)", r'<span class="opt">\1</span>', text)


def _paragraphs(text: str, css_class: str = "") -> str:
    attr = f' class="{css_class}"' if css_class else ""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join(f"<p{attr}>{'<br>'.join(_inline(l.strip()) for l in b.splitlines())}</p>\n"
                   for b in blocks)


def _cell(value) -> str:
    """A cell's HTML; ``"92.3 ± 0.5"`` keeps its interval in a span that a narrow window
    may put on a line of its own."""
    text = format_cell(value)
    if _is_numeric(value) and " ± " in text:
        mean, half = text.split(" ± ", 1)
        return f'{html.escape(mean)}<span class="pm"> ± {html.escape(half)}</span>'
    return _inline(text)


def _table(table: Table) -> str:
    numeric = [bool(table.rows) and all(_is_numeric(r[j]) for r in table.rows)
               for j in range(len(table.columns))]
    num = lambda ok: ' class="num"' if ok else ""  # noqa: E731
    head = "".join(f"<th scope=\"col\"{num(numeric[j])}>{html.escape(str(c))}</th>"
                   for j, c in enumerate(table.columns))
    body = "".join("<tr>" + "".join(f"<td{num(_is_numeric(v))}>{_cell(v)}</td>"
                                    for v in row) + "</tr>\n" for row in table.rows)
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return (f'<div class="table-wrap"><table>{caption}\n<thead><tr>{head}</tr></thead>\n'
            f"<tbody>\n{body}</tbody></table></div>\n")


def _image(caption: str, path) -> str:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"image file not found: {path}")
    data = path.read_bytes()
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 24:
        raise InputError(f"images must be PNG files, {path} is not one")
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    cap = html.escape(str(caption))
    wide = ' class="wide"' if width > 2.2 * height else ""  # a strip of panels may use the window
    return (f'<figure{wide}><img src="{uri}" alt="{cap}" width="{width}" height="{height}">'
            + (f"<figcaption>{cap}</figcaption>" if caption else "") + "</figure>\n")


def _slug(text: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def write_report(path, *, title: str, intro: str = "", sections) -> Path:
    """Write a single self-contained HTML report.

    Parameters
    ----------
    path : str or Path of the ``.html`` file to write (its folder is created).
    title : str, the page title and main heading.
    intro : str, plain text under the title; paragraphs separated by blank lines.
    sections : list of :class:`Section`; with three or more, a table of contents
        (in-page links) comes first.

    Returns
    -------
    Path of the written file. It needs no network: CSS inline, no JavaScript,
    every image a ``data:`` URI. The footer gives the reglab version and the date.
    """
    from ..io import reglab_version
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"title must be a non-empty string, got {describe(title)}")
    if not isinstance(intro, str):
        raise InputError(f"intro must be a string, got {describe(intro)}")
    sections = list(sections) if isinstance(sections, (list, tuple)) else sections
    if not isinstance(sections, list) or not all(isinstance(s, Section) for s in sections):
        raise InputError(f"sections must be a list of Section, got {describe(sections)}")
    used: set = set()
    ids = [_slug(s.heading, used) for s in sections]
    parts = [f"<h1>{html.escape(title)}</h1>\n", _paragraphs(intro, "intro")]
    if len(sections) >= 3:
        links = "".join(f'<li><a href="#{i}">{html.escape(s.heading)}</a></li>'
                        for i, s in zip(ids, sections))
        parts.append(f'<nav aria-label="Contents"><strong>Contents</strong><ol>{links}</ol></nav>\n')
    for sid, s in zip(ids, sections):
        parts.append(f'<section id="{sid}">\n<h2>{html.escape(s.heading)}</h2>\n{_paragraphs(s.text)}')
        if s.items:
            parts.append('<ul class="items">' + "".join(f"<li>{_inline(i)}</li>" for i in s.items)
                         + "</ul>\n")
        if s.table is not None:
            parts.append(_table(s.table))
        parts.extend(_image(caption, p) for caption, p in s.images)
        parts.append("</section>\n")
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    footer = f"Generated by reglab {html.escape(reglab_version())} on {html.escape(stamp)}."
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="reglab {html.escape(reglab_version())}">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<main>\n{''.join(parts)}</main>\n<footer>{footer}</footer>\n</body>\n</html>\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
