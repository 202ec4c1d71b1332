"""The web pages in a real browser: Debian's Chromium driven by Playwright
(``executable_path``; Playwright's own browser download is not used).

Skipped, with the reason, where Chromium or Playwright is missing (scripts/setup.sh
installs both). Set BUDGETXL_SCREENSHOTS=docs to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from .builders import FIXED_NAME, variant
from .conftest import EXAMPLE, SPEC
from .web_servers import NAME, Bureau, department_book, make_bureau, running

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright 未安装（pip install -e .[test]）")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="没有 Chromium（Debian: apt-get install chromium；scripts/setup.sh 会安装）"),
]
C12_CELL = "'表7 一般公共预算项目支出情况表'!D8"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    problems: list[str] = []  # a CSP violation or a script error shows up here
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" and "403" not in m.text else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.problems = problems
    yield pg
    context.close()


def screenshot(pg, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("BUDGETXL_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pg.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def test_local_page_in_a_browser(tmp_path_factory, page, tmp_path):
    with running([], tmp_path_factory.mktemp("browser-local") / "tmp") as server:
        page.goto(server.url + "/")
        assert page.title().startswith("校验工作簿")
        page.set_input_files("#file", str(EXAMPLE))
        assert "akto_2026.xlsx" in page.inner_text(".drop-name")  # upload.js ran (no CSP block)
        page.click("#submit")
        row = page.locator("tr[data-code=C12]")
        row.wait_for()
        assert "科目代码与名称不一致" in row.inner_text() and C12_CELL in row.inner_text()
        assert "错误（1 个）" in page.inner_text("section.sev-1 h3")
        screenshot(page, "web-local.png", tmp_path)
        with page.expect_download() as info:
            page.click("a[data-kind=annotated]")
        download = info.value
        assert download.suggested_filename == "2026年阿克陶县社会保险中心部门预算公开_校验结果.xlsx"
        saved = tmp_path / "annotated.xlsx"
        download.save_as(saved)
        wb = openpyxl.load_workbook(saved)
        results = wb[SPEC.layout.result_sheet]
        rows = [r for r in results.iter_rows(values_only=True) if r[2] == "C12"]
        assert rows and rows[0][1] == "错误" and C12_CELL in rows[0][4]
        assert page.problems == []


def test_bureau_pages_in_a_browser(tmp_path_factory, browser, page, tmp_path):
    tmp = tmp_path_factory.mktemp("browser-bureau")
    db, roster, passwords, logins, admin = make_bureau(tmp, [NAME, "甲单位", "乙单位"])
    with running(["--db", str(db), "--roster", str(roster)], tmp / "tmp") as server:
        bureau = Bureau(server, db, [NAME, "甲单位", "乙单位"], passwords, logins, set(passwords), tmp)
        # another department's submission, sent over HTTP
        other = bureau.upload(bureau.login(logins["甲单位"]), variant(EXAMPLE, tmp / "甲.xlsx", {**FIXED_NAME, NAME: "甲单位"}))
        other_id = other.headers["location"].rsplit("/", 1)[1]

        # a department logs in (one-time password → its own), uploads, sees its findings
        page.goto(server.url + "/")
        page.fill("#login", logins[NAME])
        page.fill("#password", passwords[logins[NAME]])
        page.click("#submit")
        page.wait_for_url("**/password")
        page.fill("#new", "社保中心的新密码2026")
        page.fill("#again", "社保中心的新密码2026")
        page.click("#submit")
        page.wait_for_url("**/department")
        assert page.inner_text("#status") == "未报送"
        page.set_input_files("#file", str(department_book(tmp, NAME)))
        page.click("#submit")
        page.wait_for_url("**/submissions/*")
        assert page.inner_text("#status") == "有错误"
        assert C12_CELL in page.locator("tr[data-code=C12]").inner_text()
        page.goto(server.url + "/department")
        screenshot(page, "web-department.png", tmp_path)
        # … and cannot open the other department's page
        response = page.goto(f"{server.url}/submissions/{other_id}")
        assert response.status == 403 and "没有权限" in page.inner_text("main") and "甲单位" not in page.inner_text("main")
        assert page.goto(server.url + "/bureau").status == 403
        assert [p for p in page.problems if "403" not in p] == []

        # the bureau sees the department as 有错误
        context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 1000})
        staff = context.new_page()
        staff.goto(server.url + "/login")
        staff.fill("#login", admin)
        staff.fill("#password", passwords[admin])
        staff.click("#submit")
        staff.wait_for_url("**/password")
        staff.fill("#new", "财政局管理员密码2026")
        staff.fill("#again", "财政局管理员密码2026")
        staff.click("#submit")
        staff.wait_for_url("**/bureau")
        row = staff.locator(f"tr[data-unit='{NAME}']")
        assert row.locator(".status").inner_text() == "有错误"
        assert staff.locator("tr[data-unit='乙单位'] .status").inner_text() == "未报送"
        assert staff.locator("tr[data-unit='甲单位'] .status").inner_text() in ("通过", "有警告")
        assert staff.locator("svg.chart").count() == 2
        screenshot(staff, "web-bureau.png", tmp_path)
        context.close()
