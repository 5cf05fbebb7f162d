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

from services.demo import demo_member
from tests.support.browser import clear_screenshots, keep_offline, launch_chromium, watch_errors
from tests.support.infra import rabbit_vhost
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.support.stack import Stack, killed_on_stop, start_stack, stop_stack

# The demo member whose sign-in carries the operator's authority here (KRING_OPERATOR_EMAILS): in the demo data a
# participant of BeterOud from the ministry, in no other test.
OPERATOR = "wouter"


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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Stack]:
    """The whole stack as processes (``kring run``, SQLite as `make run` has it) with the demo data, and the
    console it starts (``kring console``) configured as in production: the OpenID provider, no development
    sign-in."""
    console_env = {
        "KRING_CONSOLE_DEV_SIGN_IN": "false",
        "KRING_CONSOLE_OIDC_ISSUER": provider.issuer,
        "KRING_CONSOLE_OIDC_CLIENT_ID": CLIENT_ID,
        "KRING_CONSOLE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "KRING_OPERATOR_EMAILS": demo_member(OPERATOR).email,
    }
    tmp = tmp_path_factory.mktemp("stack")
    with rabbit_vhost("kring-browser") as amqp_uri:
        running = start_stack(tmp, amqp_uri, None, instance_id="kring-browser", extra_env=console_env, demo=True)
        yield running
        assert stop_stack(running.process) == 0, "kring run did not stop cleanly on Ctrl-C"
        assert killed_on_stop(running) == [], "every process exits on its own after SIGTERM"


@pytest.fixture
def page(browser: Browser, provider: Provider) -> Iterator[Page]:
    """A fresh browser context (no cookies), Dutch like the console's people, kept offline; the test fails when a
    console page asked for anything outside this machine or the browser reported an error on it (a script error,
    or something the Content-Security-Policy blocked)."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    outside: list[str] = []
    keep_offline(context, outside)
    opened = context.new_page()
    errors = watch_errors(opened)
    yield opened
    context.close()
    # The test provider's own form links a stylesheet on a CDN (aborted); only Kring's pages are held to this.
    ours = [line for line in outside if not line.startswith(provider.issuer)]
    assert not ours, "pages asked for resources outside this machine:\n" + "\n".join(ours)
    ours = [line for line in errors if not line.startswith(provider.issuer)]
    assert not ours, "the browser reported errors on the pages:\n" + "\n".join(ours)
