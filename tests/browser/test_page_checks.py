"""The layer's own instruments, on a page served here with the console's kind of Content-Security-Policy: axe-core
runs in it with the CSP on, finds what it should and lists it readably; a clean page passes; a screenshot is the
whole page; a request to the internet is stopped and reported.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import (
    SCREENSHOTS,
    assert_accessible,
    chromium_executable,
    keep_offline,
    snap,
    watch_errors,
)

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"
PAGES = {
    "/clean": b"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Schoon</title></head>
        <body><main><h1>Netwerken</h1><p>Alles in orde.</p><a href="/clean">Opnieuw</a></main></body></html>""",
    # an image without alt text and a button without a name: both critical for axe; an inline script the CSP blocks
    "/broken": b"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Kapot</title></head>
        <body><main><h1>Sessies</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button>
        <script>document.title = 'inline script ran'</script></main></body></html>""",
    "/tall": b"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Lang</title></head>
        <body><main><h1>Lang</h1>""" + b"<p>Een regel van een lange pagina.</p>" * 200 + b"""</main></body></html>""",
    # (without the CSP, which would stop the stylesheet before it is asked for)
    "/outside": b"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Buiten</title>
        <link rel="stylesheet" href="https://cdn.example.org/style.css"></head><body><main><h1>x</h1></main></body>
        </html>""",
}


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path != "/outside":
            self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_axe_runs_under_a_strict_csp_and_reports_serious_and_critical_violations_by_rule(browser: Browser, site: str):
    context = browser.new_context()  # not the page fixture: the CSP's refusal of the inline script is expected here
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"{site}/broken")
    assert page.title() == "Kapot", "the page's CSP must stay on: its inline script may not run"
    assert any("violates the following Content Security Policy" in error for error in errors), \
        "what the CSP blocked is reported as an error on the page (the page fixture fails a test on it)"
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "2 serious or critical accessibility violations" in report
    assert "critical: image-alt" in report and "critical: button-name" in report
    assert "<button></button>" in report, "each violation names the element it found"
    context.close()


def test_a_page_without_violations_passes(page: Page, site: str):
    page.goto(f"{site}/clean")
    assert_accessible(page)


def test_a_screenshot_is_the_whole_page_not_only_the_viewport(page: Page, site: str):
    page.goto(f"{site}/tall")
    path = snap(page, "checks: tall page")
    assert path.parent == SCREENSHOTS and path.name == "checks-tall-page.png"
    height = int.from_bytes(path.read_bytes()[20:24], "big")  # the PNG header's IHDR height
    assert height > 3000


def test_a_request_to_the_internet_is_stopped_and_reported(browser: Browser, site: str):
    context = browser.new_context()
    outside: list[str] = []
    keep_offline(context, outside)
    context.new_page().goto(f"{site}/outside")
    context.close()
    assert outside == [f"{site}/outside asked for https://cdn.example.org/style.css"]


def test_a_missing_chromium_fails_the_test_saying_how_to_install_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KRING_TEST_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception) as failed:
        chromium_executable()
    assert "KRING_TEST_CHROMIUM=/nonexistent/chromium is not an executable" in str(failed.value)
    assert "scripts/ensure-chromium.sh" in str(failed.value)
