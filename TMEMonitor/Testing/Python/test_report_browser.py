"""report.html in headless Chromium (Debian's ``chromium`` driven by the ``playwright`` package
through its executable path): every image loads, no *missing* cell where a value applies, a
title, and a screenshot is saved.

Skipped, with the reason, only when chromium or playwright is absent on this machine; CI
installs both (Utilities/setup_browser.sh, run by Utilities/run_tests.sh) and sets
TME_REQUIRE_BROWSER=1 (set by Utilities/run_tests.sh for the 'current' stack, where
Utilities/setup_browser.sh installs them), which turns the skip into a failure.
``TME_REPORT_SCREENSHOT=path.png`` keeps the screenshot (Documentation/report-screenshot.png is made so).
"""
import os
import shutil
import tempfile
import unittest

from demo_output import tiny_demo_output


def chromium_path():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browser_missing():
    reasons = []
    if chromium_path() is None:
        reasons.append("no 'chromium' on PATH (Debian: apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reasons.append("the 'playwright' Python package is not installed (pip install playwright)")
    return "; ".join(reasons)


def _required():
    return os.environ.get("TME_REQUIRE_BROWSER") == "1"


def open_report(html_path, screenshot_path, width=1300, height=900, full_page=True):
    """Load ``html_path`` in headless Chromium; returns the page's findings and writes a screenshot."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto("file://" + os.path.abspath(html_path))
            page.wait_for_load_state("load")
            findings = page.evaluate("""() => ({
                title: document.title,
                images: Array.from(document.images).map(i => ({src: i.getAttribute('src').slice(0, 60),
                                                               complete: i.complete, width: i.naturalWidth})),
                missing: Array.from(document.querySelectorAll('td.missing')).map(td => {
                    const row = td.parentElement; const table = row.closest('table');
                    const header = table.rows[0].cells[td.cellIndex];
                    return (header ? header.textContent : '?') + ' in row: ' + row.textContent.slice(0, 80); }),
                gridColumns: Array.from(document.querySelectorAll('.grid')).map(g =>
                    getComputedStyle(g).gridTemplateColumns),
                gridImageLefts: Array.from(document.querySelectorAll('.grid img')).map(i =>
                    Math.round(i.getBoundingClientRect().left)),
            })""")
            page.screenshot(path=screenshot_path, full_page=full_page)
        finally:
            browser.close()
    return findings


class ReportInBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        missing = _browser_missing()
        if missing:
            if _required():
                raise AssertionError(f"the report browser test is required here but cannot run: {missing}")
            raise unittest.SkipTest(f"headless Chromium not available: {missing}")
        cls.out, _ = tiny_demo_output()
        cls.shots = tempfile.mkdtemp(prefix="tme-report-shot-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(getattr(cls, "shots", ""), ignore_errors=True)

    def test_demo_report_renders_with_every_image_and_no_missing_value(self):
        shot = os.environ.get("TME_REPORT_SCREENSHOT") or os.path.join(self.shots, "report.png")
        findings = open_report(os.path.join(self.out, "report.html"), shot)
        self.assertTrue(findings["title"].startswith("TME Monitor report"), findings["title"])
        self.assertGreaterEqual(len(findings["images"]), 9)
        broken = [i["src"] for i in findings["images"] if not i["complete"] or i["width"] <= 0]
        self.assertEqual(broken, [], "images that did not load")
        self.assertEqual(findings["missing"], [], "cells marked missing where a value applies")
        # the per-visit maps line up: each grid column's images share one left edge
        self.assertTrue(findings["gridColumns"])
        lefts = findings["gridImageLefts"]
        columns = len(findings["gridColumns"][0].split())
        self.assertEqual(len(set(lefts)), columns - 1, lefts)       # first grid column holds the visit names
        self.assertTrue(os.path.isfile(shot) and os.path.getsize(shot) > 10000)


if __name__ == "__main__":
    unittest.main()
