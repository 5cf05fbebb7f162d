"""A real Chromium driven by Playwright, for tests/browser: launching it, checking a page with axe-core, saving
screenshots.

Chromium is Debian's (scripts/ensure-chromium.sh), never Playwright's own download; KRING_TEST_CHROMIUM names
another executable. axe-core comes from the npm registry at the version of tests/browser/axe/package-lock.json
(scripts/ensure-axe.sh). A test that cannot find either fails and says how to install it.
"""

from __future__ import annotations

import os
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Route

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = ROOT / "tests" / "browser" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# Every page a browser test visits, full length, kept after the run (the directory is in .gitignore).
SCREENSHOTS = ROOT / ".kring" / "screenshots"
# axe's impacts, least to most severe: the layer fails on the last two.
FAILING_IMPACTS = ("serious", "critical")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

INSTALL_CHROMIUM = ("install it with `scripts/ensure-chromium.sh` (Debian's chromium package; `make test` runs it), "
                    "or point KRING_TEST_CHROMIUM at a Chromium or Chrome executable")


def chromium_executable() -> str:
    """KRING_TEST_CHROMIUM, else the ``chromium`` on the PATH; fails the test with how to get one."""
    configured = os.environ.get("KRING_TEST_CHROMIUM")
    found = shutil.which(configured or "chromium")
    if not found:
        what = f"KRING_TEST_CHROMIUM={configured} is not an executable" if configured else "no `chromium` on the PATH"
        pytest.fail(f"Chromium is needed for the browser tests: {what}; {INSTALL_CHROMIUM}", pytrace=False)
    return found


def launch_chromium(playwright: Playwright) -> Browser:
    executable = chromium_executable()
    try:
        # Headless, no sandbox: test runs are often root in a container, where Chromium's sandbox cannot start.
        return playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
    except Exception as exc:  # Playwright raises its own Error for every launch failure; its message says why
        pytest.fail(f"Chromium at {executable} did not start ({str(exc).splitlines()[0]}); {INSTALL_CHROMIUM}",
                    pytrace=False)


def keep_offline(context: BrowserContext, outside: list[str]) -> None:
    """Abort every request to a host other than this machine, recording its URL in ``outside``: the console must
    work offline (its scripts and styles are shipped with it), and a test never reaches the internet."""

    def handle(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            outside.append(f"{route.request.frame.url} asked for {route.request.url}")
            route.abort()

    context.route("**/*", handle)


# A 4xx answer is the console's way to say no or to draw a form again with its errors (htmx swaps those in too, and
# logs each): the test judges the status. A 5xx answer, a script error, a blocked resource are errors.
_CLIENT_ERROR = re.compile(r"status of 4\d\d|^Response Status Error Code 4\d\d ")


def watch_errors(page: Page) -> list[str]:
    """The errors the browser reports on the page from now on, as they come: a script error, a script, style or
    image the page's Content-Security-Policy blocked, a server error (each is an error on the console). An answer
    of 4xx is left to the test to judge (a refusal is a 403 page, a form with errors a 422, rightly)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _CLIENT_ERROR.search(message.text):
            errors.append(f"{page.url}: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return errors


# --- accessibility -------------------------------------------------------------------------------------------


@cache
def axe_source() -> str:
    if not AXE_SOURCE.is_file():
        pytest.fail(f"axe-core is not installed at {AXE_SOURCE.relative_to(ROOT)}: run `scripts/ensure-axe.sh` "
                    "(npm ci in tests/browser/axe; `make test` runs it)", pytrace=False)
    return AXE_SOURCE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.0/2.1 A and AA (and its best practices) on the page as it is now.

    The console's Content-Security-Policy allows no inline script, and rightly so: axe is evaluated through the
    DevTools protocol (page.evaluate), which runs in the page whatever its CSP says, so the CSP stays on.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """The violations one per rule, each with its impact, its help text and link, and the elements it found."""
    lines = []
    for v in violations:
        lines.append(f"- {v['impact']}: {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            summary = re.sub(r"\s+", " ", node.get("failureSummary") or "").strip()
            lines.append(f"    {target}: {node['html'][:160]}" + (f"\n      {summary[:300]}" if summary else ""))
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail when axe-core finds any serious or critical violation on the page, listing them readably."""
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"{page.url}: {len(failing)} serious or critical accessibility violations:\n" + describe(
        failing)


# --- screenshots ---------------------------------------------------------------------------------------------


def clear_screenshots() -> None:
    """Screenshots of the previous run are removed at the start of a new one: the directory shows one run."""
    if SCREENSHOTS.is_dir():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def snap(page: Page, name: str) -> Path:
    """Save the whole page (not only the viewport) as .kring/screenshots/<name>.png; return the path."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    path = SCREENSHOTS / f"{safe}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    # caret "initial": hiding the caret leaves an empty style attribute on inputs, which htmx then copies onto the
    # next page's inputs of the same id, and the Content-Security-Policy rightly blocks (a false error on the page)
    page.screenshot(path=str(path), full_page=True, caret="initial")
    return path
