"""Using the console as its people do: signing in through the OpenID provider, and looking at every page the way
the layer requires (axe-core finds nothing serious or critical; a full-page screenshot is kept)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from services.demo import demo_member
from tests.support.browser import assert_accessible, snap
from tests.support.oidc import Provider
from tests.support.stack import Stack


def at(url: str) -> re.Pattern[str]:
    """``url``, with any query."""
    return re.compile(re.escape(url) + r"(\?.*)?$")


def looked_at(page: Page, name: str) -> None:
    """Every page a test visits: checked with axe-core, and saved as .kring/screenshots/<name>.png."""
    page.wait_for_load_state("load")
    snap(page, name)
    assert_accessible(page)


def at_provider(page: Page, provider: Provider, subject: str) -> None:
    """On the provider's authorization form: type the subject and authorize (the provider's page is not ours to
    check)."""
    expect(page).to_have_url(at(f"{provider.issuer}/oauth2/authorize"))
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()


def sign_in(page: Page, stack: Stack, provider: Provider, member_key: str, *, going_to: str = "/") -> None:
    """Sign in as a demo member through the provider, who vouches for their e-mail address as verified."""
    member = demo_member(member_key)
    provider.set_user(member_key, member.email, name=member.name)
    page.goto(f"{stack.console}{going_to}")
    expect(page).to_have_url(at(f"{stack.console}/sign-in"))
    page.get_by_role("link", name="Inloggen met uw organisatie-account").click()
    at_provider(page, provider, member_key)
    expect(page.get_by_text(f"Ingelogd als {member.name}")).to_be_visible()
