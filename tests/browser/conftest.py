"""Browser tests: the console in a real Chromium driven by Playwright, against the whole stack as processes with
the demo data, signing in through a real local OpenID provider.

Every page a test visits is checked with axe-core (no serious or critical finding) and saved as a full-page
screenshot under .kring/screenshots/. The browser never reaches the internet: requests to any other host are
aborted, and a console page that makes one fails its test.

Like tests/e2e, this layer never imports eventlet's monkey patching; ``make test`` runs it in its own pytest
process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.support.browser import clear_screenshots, keep_offline, launch_chromium
from tests.support.oidc import Provider, running_provider


def pytest_configure(config: pytest.Config) -> None:
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        raise pytest.UsageError("tests/browser must run in a process without eventlet patching: run `make test`, "
                                "which runs each layer in its own pytest process")


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshots() -> None:
    clear_screenshots()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def page(browser: Browser, provider: Provider) -> Iterator[Page]:
    """A fresh browser context (no cookies), Dutch like the console's people, kept offline."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    outside: list[str] = []
    keep_offline(context, outside)
    yield context.new_page()
    context.close()
    # The test provider's own form links a stylesheet on a CDN (aborted); only Kring's pages are held to this.
    ours = [line for line in outside if not line.startswith(provider.issuer)]
    assert not ours, "pages asked for resources outside this machine:\n" + "\n".join(ours)
