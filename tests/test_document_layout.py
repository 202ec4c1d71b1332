"""The published document's layout, as a 财政局 reviewer checks it: the .docx
is inspected for the flags that make the layout (repeated headers, rows kept
whole, heading outline levels, justified body, page numbering), and the PDF
LibreOffice makes from it is read back page by page."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from budgetxl.records import replace
from pathlib import Path

import pytest
from lxml import etree

from budgetxl import pipeline
from budgetxl.batch import OK, convert_all
from budgetxl.render import office, prepare
from budgetxl.render.column_widths import column_widths, ems
from budgetxl.render.docx_document import LANDSCAPE, write_docx
from budgetxl.render.tables import all_tables, amount_text

from .builders import variant
from .conftest import EXAMPLE

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
NS = {"w": W[1:-1]}
NEEDS_LIBREOFFICE = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (scripts/setup.sh installs it)")
NEEDS_UNO = pytest.mark.skipif(office.uno_python() is None, reason="no Python with uno (scripts/setup.sh installs python3-uno)")


@pytest.fixture(scope="module")
def printed(spec):
    model, narrative, _ = prepare(pipeline.read(EXAMPLE, spec).disclosure, spec)
    return model, narrative


@pytest.fixture(scope="module")
def docx_path(tmp_path_factory, printed, spec):
    path = tmp_path_factory.mktemp("layout") / "doc.docx"
    return write_docx(*printed, spec, path)


def _xml(path: Path, part: str):
    return etree.fromstring(zipfile.ZipFile(path).read(part))


def _text(el) -> str:
    return "".join(el.itertext())


def _main_tables(body, spec):
    """(table element, spec table) for the 12 disclosure tables, by their first header cell."""
    found = []
    want = iter(spec.tables)
    t = next(want)
    for tbl in body.iter(W + "tbl"):
        first = tbl.find("w:tr/w:tc", NS)
        cols = len(tbl.findall("w:tblGrid/w:gridCol", NS))
        if t is not None and cols == len(t.columns) and _text(first) == t.header[0][0]:
            found.append((tbl, t))
            t = next(want, None)
    return found


# ------------------------------------------------------------------ the .docx

def test_every_row_is_kept_whole_and_header_rows_repeat(docx_path, spec):
    body = _xml(docx_path, "word/document.xml").find("w:body", NS)
    tables = _main_tables(body, spec)
    assert len(tables) == 12
    for tbl, t in tables:
        rows = tbl.findall("w:tr", NS)
        for i, tr in enumerate(rows):
            assert tr.find("w:trPr/w:cantSplit", NS) is not None, (t.key, i)
            is_header = tr.find("w:trPr/w:tblHeader", NS) is not None
            assert is_header == (i < len(t.header)), (t.key, i)
        # what stands right before the table is a paragraph (the 编制部门 line), not a
        # one-row table: LibreOffice drops the repeated header after a table
        before = tbl.getprevious()
        assert before.tag == W + "p"
        assert re.fullmatch(r"编制部门：阿克陶县社会保险中心单位：万元", _text(before)), _text(before)
        assert before.find(".//w:tab", NS) is not None  # 单位 at the right edge


def test_tables_draw_their_own_borders_with_no_table_style(docx_path):
    """For a table style LibreOffice's docx import resolves its conditional
    formats cell by cell, and it imports every style of the file: together
    about 40% of its import time here (bench/bench_office.py). The tables
    carry their borders and cell margins themselves; styles.xml holds the
    styles the document uses and the defaults, nothing from the template."""
    from budgetxl.render.docx_document import STYLES

    package = zipfile.ZipFile(docx_path)
    body = _xml(docx_path, "word/document.xml")
    tables = body.findall(".//w:tbl", NS)
    assert tables and all(t.find("w:tblPr/w:tblBorders", NS) is not None and t.find("w:tblPr/w:tblCellMar", NS) is not None for t in tables)
    assert not body.findall(".//w:tblStyle", NS)
    styles = _xml(docx_path, "word/styles.xml")
    ids = {s.get(W + "styleId") for s in styles.findall("w:style", NS)}
    assert ids == {d.style_id for d in STYLES} | {"DefaultParagraphFont", "TableNormal", "NoList"}
    assert styles.find("w:latentStyles", NS) is None
    assert not [n for n in package.namelist() if "stylesWithEffects" in n or "thumbnail" in n]


def test_each_table_starts_on_a_new_page(docx_path, spec):
    body = _xml(docx_path, "word/document.xml").find("w:body", NS)
    styles = _xml(docx_path, "word/styles.xml")
    label = styles.find("w:style[@w:styleId='BXTableLabel']", NS)
    assert label.find("w:pPr/w:pageBreakBefore", NS) is not None
    labels = [_text(p) for p in body.iter(W + "p") if p.find("w:pPr/w:pStyle[@w:val='BXTableLabel']", NS) is not None]
    assert labels == [f"表{t.number}" for t in spec.tables]


def test_amounts_are_right_aligned_with_thousands_separators(docx_path, spec):
    body = _xml(docx_path, "word/document.xml").find("w:body", NS)
    tbl, t = _main_tables(body, spec)[2]  # 表3
    amounts = 0
    for tr in tbl.findall("w:tr", NS)[len(t.header):]:
        for tc, column in zip(tr.findall("w:tc", NS), t.columns):
            text = _text(tc)
            if column.role == "amount" and text:
                assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", text), text
                assert tc.find("w:p/w:pPr/w:jc", NS).get(W + "val") == "right"
                amounts += 1
    assert amounts > 20
    assert "1,462.90" in _text(tbl)


def test_column_widths_follow_the_content(docx_path, spec, printed):
    body = _xml(docx_path, "word/document.xml").find("w:body", NS)
    tables = dict((t.key, tbl) for tbl, t in _main_tables(body, spec))
    total = LANDSCAPE.text_width_twips
    for key, tbl in tables.items():
        widths = [int(c.get(W + "w")) for c in tbl.findall("w:tblGrid/w:gridCol", NS)]
        assert abs(sum(widths) - total) < len(widths) + 2, key  # the table is as wide as the page
    # 表7: the ten mostly empty 经济分类 columns do not take the width from the names
    t7 = spec.table("T7")
    widths = [int(c.get(W + "w")) for c in tables["T7"].findall("w:tblGrid/w:gridCol", NS)]
    roles = [c.role for c in t7.columns]
    name, project = widths[roles.index("name")], widths[roles.index("project")]
    empties = [w for w, c in zip(widths, t7.columns) if c.role == "amount" and c.key != t7.columns[5].key]
    assert project > 3 * max(empties) and name > 2 * max(empties)
    # the longest 科目名称 of 表7 fits on one line (9 pt, 0.1 cm padding each side)
    pt7 = next(p for p in all_tables(printed[0], spec) if p.number == 7)
    longest = max(ems(r[3] or "") for r in pt7.rows)
    assert name / 20 >= longest * 9 * 1.06
    # amount columns never narrower than their widest figure
    for tbl, t in _main_tables(body, spec):
        pt = next(p for p in all_tables(printed[0], spec) if p.number == t.number)
        cols = [int(c.get(W + "w")) for c in tbl.findall("w:tblGrid/w:gridCol", NS)]
        for c, numeric in enumerate(pt.numeric):
            if numeric:
                widest = max((ems(amount_text(r[c])) for r in pt.rows), default=0)
                assert cols[c] / 20 >= widest * 9, (t.key, c)


def test_column_widths_give_names_the_room_they_need():
    header = (("科目名称", "项目名称", "合计", "工资福利支出", "其他支出"),)
    rows = [("社会保险经办机构", "2026年城乡居民养老保险丧葬费抚恤金补贴（县级）", "1,270.40", "", "")]
    kinds = ("text", "text", "amount", "amount", "amount")
    wide = column_widths(header, rows, kinds, [False], 800, 9, 6)
    assert abs(sum(wide) - 800) < 1e-6
    assert wide[1] >= ems(rows[0][1]) * 9 + 6  # room enough: the name on one line
    narrow = column_widths(header, rows, kinds, [False], 300, 9, 6)
    assert abs(sum(narrow) - 300) < 1e-6
    assert narrow[2] >= ems("1,270.40") * 9 + 6  # the amount keeps its width; the name wraps
    assert narrow[1] < ems(rows[0][1]) * 9 and narrow[4] < narrow[1]


def test_headings_are_outline_levels_and_the_body_is_justified(docx_path, printed):
    styles = _xml(docx_path, "word/styles.xml")
    for sid, level in (("Heading1", "0"), ("Heading2", "1"), ("Heading3", "2")):
        style = styles.find(f"w:style[@w:styleId='{sid}']", NS)
        assert style.find("w:pPr/w:outlineLvl", NS).get(W + "val") == level
    body_style = styles.find("w:style[@w:styleId='BodyText']", NS)
    assert body_style.find("w:pPr/w:jc", NS).get(W + "val") == "both"  # 两端对齐
    ind = body_style.find("w:pPr/w:ind", NS)
    assert ind.get(W + "firstLineChars") == "200"  # two characters
    spacing = body_style.find("w:pPr/w:spacing", NS)
    assert (spacing.get(W + "line"), spacing.get(W + "lineRule")) == ("560", "exact")  # 28 pt
    fonts = body_style.find("w:rPr/w:rFonts", NS)
    assert fonts.get(W + "eastAsia") == "仿宋_GB2312"
    assert body_style.find("w:rPr/w:sz", NS).get(W + "val") == "32"  # 三号 16 pt

    body = _xml(docx_path, "word/document.xml").find("w:body", NS)
    by_style: dict[str, list[str]] = {}
    for p in body.iter(W + "p"):
        s = p.find("w:pPr/w:pStyle", NS)
        by_style.setdefault(s.get(W + "val") if s is not None else "", []).append(_text(p))
    assert [t[:4] for t in by_style["Heading1"]] == ["第一部分", "第二部分", "第三部分", "第四部分"]
    assert set(t.title for t in printed[0].tables.values()) <= set(by_style["Heading2"])
    narrative = printed[1]
    lines = [line.strip() for s in narrative.sections for p in s.paragraphs for line in p.split("\n") if line.strip()]
    assert lines == by_style["BodyText"]


def test_contents_field_and_page_numbering(docx_path):
    doc = _xml(docx_path, "word/document.xml")
    instr = " ".join(t.text for t in doc.iter(W + "instrText"))
    assert re.search(r'TOC \\o "1-2"', instr)
    assert _xml(docx_path, "word/settings.xml").find("w:updateFields", NS) is not None
    sections = doc.findall(".//w:sectPr", NS)
    assert len(sections) == 5
    footers = {}
    rels = _xml(docx_path, "word/_rels/document.xml.rels")
    targets = {r.get("Id"): r.get("Target") for r in rels}
    for i, sect in enumerate(sections):
        ref = sect.find("w:footerReference", NS)
        rid = ref.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
        footers[i] = " ".join(t.text or "" for t in _xml(docx_path, "word/" + targets[rid]).iter(W + "instrText"))
    assert "PAGE" not in footers[0]  # cover and 目录: no page number
    assert all("PAGE" in footers[i] for i in range(1, 5))
    assert sections[1].find("w:pgNumType", NS).get(W + "start") == "1"  # 第一部分 is page 1


# ------------------------------------------------------------------ the PDF

def _pages(pdf: Path, mode: str = "-layout") -> list[str]:
    """The text of each page: -layout as printed, -raw in drawing order (a table
    cell's lines together)."""
    count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout).group(1))
    return [subprocess.run(["pdftotext", mode, "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True, text=True).stdout for i in range(1, count + 1)]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _page_number(page: str) -> str | None:
    m = re.search(r"—\s*(\d+)\s*—\s*$", page.strip())
    return m.group(1) if m else None


def _table_pages(pages: list[str], spec) -> dict[int, list[int]]:
    """table number -> indexes of the pages it occupies (from its 表N label to the next)."""
    starts = {}
    for i, page in enumerate(pages):
        m = re.match(r"\s*表\s*(\d+)\s*\n", page)
        if m:
            starts[int(m.group(1))] = i
    end_of_tables = next(i for i, p in enumerate(pages) if _flat(p).startswith("第三部分"))
    out = {}
    numbers = sorted(starts)
    for k, n in enumerate(numbers):
        stop = starts[numbers[k + 1]] if k + 1 < len(numbers) else end_of_tables
        out[n] = list(range(starts[n], stop))
    return out


@pytest.fixture(scope="module")
def example_batch(tmp_path_factory, spec):
    """The example through ``convert`` (PDF by the persistent office), and the
    process list right after the batch."""
    tmp = tmp_path_factory.mktemp("pdf")
    source = variant(EXAMPLE, tmp / "示例.xlsx", {})
    out = tmp / "out"
    results = convert_all([source], out, ("docx", "pdf"), 1, force=True, spec=spec)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert results[0].status == OK, results[0].message
    return out, next(p for p in results[0].outputs if p.suffix == ".pdf"), ps


@pytest.fixture(scope="module")
def example_pdf(example_batch):
    return example_batch[1]


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_pdf_tables_one_page_each_and_page_numbers_from_the_body(example_pdf, spec):
    pages = _pages(example_pdf)
    tables = _table_pages(pages, spec)
    assert sorted(tables) == list(range(1, 13))
    assert len(tables[1]) == 1 and len(tables[4]) == 1  # 表1 and 表4 fit one A4 landscape page
    assert all(len(p) == 1 for p in tables.values()), {n: len(p) for n, p in tables.items()}  # the example's are all short
    assert _page_number(pages[0]) is None and _page_number(pages[1]) is None  # cover, 目录
    first_body = next(i for i, p in enumerate(pages) if _flat(p).startswith("第一部分"))
    assert _page_number(pages[first_body]) == "1"
    numbers = [_page_number(p) for p in pages[first_body:]]
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_pdf_contents_has_the_page_numbers_of_the_headings(example_pdf, spec):
    pages = _pages(example_pdf)
    contents = "".join(p for p in pages[:4] if not _page_number(p))
    entries = dict(re.findall(r"(\S[^.\n]*?)\.{3,}\s*(\d+)", contents.replace("\n  ", "")))
    entries = {_flat(k): v for k, v in entries.items()}
    printed_on = {}
    for page in pages:
        number = _page_number(page)
        if number:
            for t in spec.tables:
                if t.title in _flat(page) and t.title not in printed_on:
                    printed_on[t.title] = number
    for t in spec.tables:
        assert entries.get(t.title) == printed_on[t.title], t.title
    assert entries[_flat("第一部分 2026年部门概况")] == "1"
    assert entries[_flat("第四部分 名词解释")] == next(_page_number(p) for p in pages if _flat(p).startswith("第四部分"))


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_pdf_bookmarks_for_parts_and_tables(example_pdf, spec):
    from pypdf import PdfReader

    reader = PdfReader(str(example_pdf))
    titles = []

    def walk(items, depth=0):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                titles.append((depth, item.title))

    walk(reader.outline)
    top = [t for d, t in titles if d == 0]
    assert [t[:4] for t in top] == ["第一部分", "第二部分", "第三部分", "第四部分"]
    assert [t for d, t in titles if t in {x.title for x in spec.tables}] == [x.title for x in spec.tables]
    fonts = subprocess.run(["pdffonts", str(example_pdf)], capture_output=True, text=True).stdout
    assert "UKai" in fonts  # 楷体 二级标题 from fonts-arphic-ukai, not a fallback sans


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_long_table_repeats_its_header_and_keeps_rows_whole(tmp_path, printed, spec):
    """表7 with five times the example's projects runs over several pages: every
    continuation page starts with the header, and no row is split."""
    model, narrative = printed
    t7 = model.table("T7")
    details = [r for r in t7.rows if r.project]
    name = lambda r, k: f"{r.project}（第{k}批{'，按季度拨付' * k}）"  # noqa: E731 - rows of 2 to 6 lines
    more = tuple(t7.rows[:-1]) + tuple(replace(r, project=name(r, k)) for k in range(2, 6) for r in details) + (t7.rows[-1],)
    long = replace(model, tables={**model.tables, "T7": replace(t7, rows=more)})
    docx = write_docx(long, narrative, spec, tmp_path / "long.docx")
    done = office.convert_many([(docx, tmp_path / "long.pdf")], tmp_path / "work")
    assert done[docx] is not None
    pages = _pages(tmp_path / "long.pdf")
    t7_pages = _table_pages(pages, spec)[7]
    assert len(t7_pages) >= 3
    projects = [name(r, k) for k in range(2, 6) for r in details]
    raw = _pages(tmp_path / "long.pdf", "-raw")
    seen = []
    for i in t7_pages[1:]:
        lines = [line for line in pages[i].splitlines() if line.strip()]
        assert re.match(r"\s*科目代码", lines[0]), lines[:2]  # the header again, first thing on the page
    for i in t7_pages:
        flat = _flat(raw[i])
        seen += [p for p in projects if _flat(p) in flat]
    # every project name is printed whole on one page (a split row would cut it)
    assert sorted(seen) == sorted(projects)


@NEEDS_LIBREOFFICE
def test_without_uno_the_one_shot_path_still_makes_the_pdf(tmp_path, monkeypatch, spec):
    monkeypatch.setenv("BUDGETXL_UNO_PYTHON", "")
    office.uno_python.cache_clear()
    try:
        source = variant(EXAMPLE, tmp_path / "示例.xlsx", {})
        results = convert_all([source], tmp_path / "out", ("docx", "pdf"), 1, force=True, spec=spec)
    finally:
        office.uno_python.cache_clear()
    assert results[0].status == OK, results[0].message
    assert "目录没有页码" in results[0].message  # the user is told (found by a fresh-clone trial)
    pdf = next(p for p in results[0].outputs if p.suffix == ".pdf")
    pages = _pages(pdf)
    assert any(_flat(p).startswith("第一部分") for p in pages)


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_office_is_stopped_after_the_batch(example_batch):
    out, _, ps = example_batch
    assert str(out) not in ps  # no LibreOffice left running with this batch's profile
    assert sorted(p.name for p in out.iterdir()) == ["2026年阿克陶县社会保险中心部门预算公开.docx", "2026年阿克陶县社会保险中心部门预算公开.pdf"]


def test_a_forked_worker_does_not_hold_an_office_input_open(tmp_path):
    """The batch forks its worker processes after LibreOffice is launched; a
    child's copy of the pipe to an office must not keep the office waiting
    for the end of its input. Here the office is a plain `cat`: it ends when
    its input ends, which the sleeping child would otherwise prevent."""
    import os
    import signal
    import time

    o = office.Office(tmp_path / "profile")
    o.proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    office._LAUNCHED.add(o)
    child = os.fork()
    if child == 0:  # a worker process that lives on
        time.sleep(30)
        os._exit(0)
    try:
        o.proc.stdin.close()
        assert o.proc.wait(timeout=20) == 0
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        o.close()


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_offices_start_from_a_private_seed_profile(example_batch, tmp_path, monkeypatch):
    """After a batch, its office's profile is kept (once) as the seed the next
    offices copy: a new, empty profile makes LibreOffice restart itself. Only
    a seed of this user that no one else can write is used."""
    import os

    seed = office.seed_profile()
    assert seed is not None and seed.is_dir() and office._usable_seed(seed)
    assert (seed / "user" / "registrymodifications.xcu").is_file()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert not office._usable_seed(shared) and not office._usable_seed(tmp_path / "missing")
    monkeypatch.setenv("BUDGETXL_CACHE", "off")
    assert office.seed_profile() is None


@NEEDS_LIBREOFFICE
@NEEDS_UNO
def test_a_file_the_office_cannot_open_does_not_stop_the_others(tmp_path):
    import docx

    good = []
    for k in range(2):
        small = docx.Document()
        small.add_paragraph(f"第{k}个文件")
        small.save(str(tmp_path / f"{k}.docx"))
        good.append(tmp_path / f"{k}.docx")
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    pairs = [(good[0], tmp_path / "a.pdf"), (broken, tmp_path / "b.pdf"), (good[1], tmp_path / "c.pdf")]
    done = office.convert_many(pairs, tmp_path / "work", workers=1)
    assert done[good[0]] is not None and done[good[1]] is not None
    assert (tmp_path / "a.pdf").stat().st_size > 0 and (tmp_path / "c.pdf").stat().st_size > 0
    assert done.get(broken) is None and not (tmp_path / "b.pdf").exists()


def test_fonts_conf_keeps_official_fonts_first():
    from budgetxl.render.pdf import fonts_conf

    root = etree.parse(str(fonts_conf())).getroot()
    aliases = {a.findtext("family"): a for a in root.findall("alias")}
    for official, fallback in (("仿宋_GB2312", "Noto Serif CJK SC"), ("宋体", "Noto Serif CJK SC"), ("楷体_GB2312", "AR PL UKai CN"),
                               ("黑体", "Noto Sans CJK SC"), ("方正小标宋简体", "Noto Serif CJK SC"), ("FangSong", "Noto Serif CJK SC")):
        alias = aliases[official]
        # <prefer> goes before the requested name, <accept> after it: an open font only
        # when no official one is installed
        assert fallback not in [f.text for f in alias.findall("prefer/family")], official
        assert [f.text for f in alias.findall("accept/family")][0] == fallback, official
    resolved = subprocess.run(["fc-match", "-f", "%{family}", "仿宋_GB2312"], env={"FONTCONFIG_FILE": str(fonts_conf())}, capture_output=True, text=True)
    if resolved.returncode == 0 and "FangSong" not in resolved.stdout and "仿宋" not in resolved.stdout:
        assert "Noto Serif CJK SC" in resolved.stdout


def test_office_environment_adds_huge_pages_and_keeps_the_users_tunables():
    """LibreOffice runs with glibc's heap on transparent huge pages (half its
    start-up CPU, bench/bench_office.py); a user's own GLIBC_TUNABLES stay,
    and a user who set hugetlb keeps that choice."""
    from budgetxl.render.pdf import fonts_conf, office_env

    assert office_env({})["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1"
    assert office_env({})["FONTCONFIG_FILE"] == str(fonts_conf())
    assert office_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    assert office_env({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=0"
