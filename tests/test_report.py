"""Tests of reglab.report.html: one self-contained, escaped HTML file."""

from __future__ import annotations

import base64
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reglab import InputError
from reglab.io import reglab_version
from reglab.report.html import Section, Table, format_cell, write_report

EVIL = "<script>alert('x')</script> & co"


class Collect(HTMLParser):
    """Every tag and every URL-bearing attribute of a page."""

    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.cells = [], [], []
        self._in_td = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [(tag, k, v) for k, v in attrs if k in ("src", "href", "srcset", "action", "data")]
        if tag == "td":
            self._in_td = dict(attrs).get("class", "")

    def handle_data(self, data):
        if self._in_td is not None:
            self.cells.append((data, self._in_td))
            self._in_td = None


def make_png(path: Path, color=(0, 114, 178)) -> Path:
    im = Image.new("RGB", (64, 40), "white")
    im.paste(color, (8, 8, 56, 32))
    im.save(path, format="PNG")
    return path


@pytest.fixture
def report(tmp_path):
    a, b = make_png(tmp_path / "a.png"), make_png(tmp_path / "b.png", (213, 94, 0))
    table = Table(["setting", "train acc", "test acc", "seeds", "note"],
                  [["none", 0.948, "91.5%", 5, "a < b & c"], ["l2", 0.9312345, "93.0%", 5, "-"]],
                  caption="Accuracy, mean over seeds")
    sections = [
        Section(EVIL, text="First paragraph <b>not bold</b>.\nSame paragraph.\n\nSecond paragraph.",
                table=table, images=[("Decision boundaries", a)]),
        Section("Costs", images=[("cost <curves>", b), ("again", a)]),
        Section("Notes", text="Nothing else."),
    ]
    path = write_report(tmp_path / "out" / "report.html", title="Compare <on moons>",
                        intro="Five settings.\n\nThree seeds.", sections=sections)
    return path, [a, b, a]


def test_one_self_contained_file(report):
    path, images = report
    assert path.is_file() and path.suffix == ".html"
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    parser = Collect()
    parser.feed(text)
    assert "script" not in parser.tags and "link" not in parser.tags and "iframe" not in parser.tags
    srcs = [v for tag, k, v in parser.urls if k == "src"]
    assert len(srcs) == len(images)
    for src, png in zip(srcs, images):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == png.read_bytes()
    hrefs = [v for tag, k, v in parser.urls if k == "href"]
    assert hrefs and all(h.startswith("#") for h in hrefs)  # only the in-page contents links
    assert not re.search(r"src\s*=\s*(?![\"']?data:)", text)
    assert len(re.findall(r"src\s*=", text)) == len(images)
    assert "@import" not in text and "url(" not in text


def test_text_is_escaped(report):
    text = report[0].read_text(encoding="utf-8")
    assert EVIL not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in text
    assert "<title>Compare &lt;on moons&gt;</title>" in text
    assert "First paragraph &lt;b&gt;not bold&lt;/b&gt;.<br>Same paragraph.</p>" in text
    assert "<p>Second paragraph.</p>" in text
    assert 'alt="cost &lt;curves&gt;"' in text
    assert "a &lt; b &amp; c" in text


def test_table_numbers_formatted_and_right_aligned(report):
    parser = Collect()
    parser.feed(report[0].read_text(encoding="utf-8"))
    cells = dict(parser.cells)
    assert cells["0.948"] == "num" and cells["0.9312"] == "num"
    assert cells["91.5%"] == "num" and cells["5"] == "num"
    assert cells["none"] == "" and cells["-"] == ""


def test_footer_and_structure(report):
    text = report[0].read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in text
    footer = re.search(r"<footer>(.*?)</footer>", text, re.S).group(1)
    assert f"reglab {reglab_version()}" in footer and date.today().isoformat() in footer
    assert text.count("<h2>") == 3 and len(re.findall(r"<figure[ >]", text)) == 3
    assert 'width="64" height="40"' in text  # the browser reserves the space before decoding
    assert "<caption>Accuracy, mean over seeds</caption>" in text


@pytest.mark.parametrize("value, text", [
    (0.948, "0.948"), (0.93123456, "0.9312"), (12345.678, "12,346"), (2.5e-5, "2.500e-05"),
    (3, "3"), (1234567, "1,234,567"), (np.float64(0.5), "0.5"), (np.int64(7), "7"),
    (float("nan"), "–"), (0.0, "0"), ("text", "text"), (True, "True"),
])
def test_format_cell(value, text):
    assert format_cell(value) == text


def test_wide_strips_of_panels_may_use_the_window(tmp_path):
    strip = tmp_path / "strip.png"
    Image.new("RGB", (900, 200), "navy").save(strip)
    page = write_report(tmp_path / "r.html", title="t",
                        sections=[Section("s", images=[("strip", strip),
                                                       ("plain", make_png(tmp_path / "p.png"))])])
    figures = re.findall(r"<figure[^>]*>", page.read_text(encoding="utf-8"))
    assert figures == ['<figure class="wide">', "<figure>"]


def test_refuses_missing_or_non_png_images(tmp_path):
    with pytest.raises(InputError, match="image file not found"):
        write_report(tmp_path / "r.html", title="t",
                     sections=[Section("s", images=[("c", tmp_path / "no.png")])])
    fake = tmp_path / "fake.png"
    fake.write_text("<svg onload=alert(1)>")
    with pytest.raises(InputError, match="images must be PNG files"):
        write_report(tmp_path / "r.html", title="t", sections=[Section("s", images=[("c", fake)])])
    assert not (tmp_path / "r.html").exists()


def test_refuses_bad_tables_and_sections():
    with pytest.raises(InputError, match=r"rows\[1\] must be a list of 2 cells"):
        Table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(InputError, match="heading must be a non-empty string"):
        Section("")
    with pytest.raises(InputError, match="sections must be a list of Section"):
        write_report("unused.html", title="t", sections=["not a section"])


def test_takeaways_code_and_intervals(tmp_path):
    path = write_report(tmp_path / "r.html", title="t", sections=[
        Section("Takeaways", text="Run `reglab diagnose` for <more>.",
                items=["L2 beats none by 3.2 points", "use `--baseline` & co"]),
        Section("Results", table=Table(["setting", "test %"], [["L2 0.7", "87.1 ± 0.3"]]))])
    page = path.read_text()
    assert "`" not in page  # no literal backticks: code is rendered as code
    assert "Run <code>reglab diagnose</code> for &lt;more&gt;." in page
    assert ('<ul class="items"><li>L2 beats none by 3.2 points</li><li>use <code><span class="opt">'
            '--baseline</span></code> &amp; co</li></ul>') in page
    # the interval may go on a line of its own in a narrow window, so that wide tables fit
    assert '<td class="num">87.1<span class="pm"> ± 0.3</span></td>' in page
    assert re.search(r"@media \(max-width: 60rem\) \{.*td\.num \.pm \{ display: block;", page, re.S)
    with pytest.raises(InputError, match=r"^items must be a list of strings, got"):
        Section("x", items="not a list")


def test_compare_table_in_an_80_column_terminal(monkeypatch):
    """Names whole, every value on its row's line, nothing past column 80."""
    import io

    from rich.console import Console

    from reglab.cli import compare_report
    from reglab.experiments.compare import SummaryRow, default_settings
    from reglab.experiments.stats import Interval

    settings = default_settings(augment="jitter:0.045")
    names = {s.name: compare_report.display_name(s) for s in settings}
    iv = lambda m, h: Interval(m, m - h, m + h, 5)  # noqa: E731
    rows = [SummaryRow(s.name, s.describe(), 5, 0, iv(0.983, 0.005), iv(0.732, 0.014), iv(0.839, 0.011),
                       iv(0.144, 0.014), iv(25.18, 0.5), iv(0.002, 0.002), iv(1.24, 0.24)) for s in settings]
    for width, compact in ((80, True), (160, False)):
        buffer = io.StringIO()
        monkeypatch.setattr(compare_report, "console", Console(file=buffer, width=width, color_system=None))
        compare_report.print_summary(rows, names, "field: 5 seed(s) per setting; mean ± 95% interval")
        lines = buffer.getvalue().splitlines()
        assert all(len(line) <= width for line in lines)
        for s in settings:
            line = next(line for line in lines if names[s.name] in line)  # the whole name on one line
            assert line.count("±") == (4 if compact else 7), line
        assert ("(weight norms, |w| < 1e-3 and times: results.csv and report.html)" in lines) == compact
    assert names["l2+dropout"] == "L2 0.7 + dropout keep 0.8"


def test_sweep_without_a_dev_set_names_its_held_out_set_once(tmp_path):
    """The course-compat sweep holds out the test set: one "test %" column, and the curve says
    "test", not "dev"."""
    from click.testing import CliRunner

    from reglab.cli.main import main

    out = tmp_path / "s"
    result = CliRunner().invoke(main, ["sweep", "--dataset", "circles_course", "--course-compat",
                                       "--l2", "0,0.7", "--iterations", "30", "--layers", "4",
                                       "--jobs", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "point" in line and "train %" in line)
    assert header.count("test %") == 1 and "dev" not in header and "train-test gap" in header
    page = (out / "report.html").read_text()
    assert page.count("<th scope") == 5 and "Takeaways" in page and "one run per point: no intervals" in page
    assert "Validation curve: train and test accuracy against l2, one run per value." in page
