"""Signing in to the console through a real OpenID provider, in Chromium, against the whole stack with the demo
data: the development sign-in is off, as in production."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.console import at, at_provider, looked_at, sign_in
from tests.support.oidc import Provider
from tests.support.stack import Stack


def test_the_sign_in_page_offers_the_organisation_account_and_no_development_sign_in(page: Page, stack: Stack):
    page.goto(f"{stack.console}/")
    expect(page).to_have_url(at(f"{stack.console}/sign-in"))
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
    expect(page.get_by_role("link", name="Inloggen met uw organisatie-account")).to_be_visible()
    expect(page.get_by_text("Ontwikkel-inlog")).to_have_count(0)
    looked_at(page, "sign-in")


def test_a_coordinator_signs_in_through_the_provider_and_sees_their_networks_with_their_role(
        page: Page, stack: Stack, provider: Provider):
    sign_in(page, stack, provider, "fatima")
    expect(page).to_have_url(f"{stack.console}/")
    utrecht = page.locator("li.card").filter(has_text="Werkplaats Sociaal Domein Utrecht")
    expect(utrecht).to_contain_text("coördinator")
    looked_at(page, "home-coordinator")


def test_a_participant_signs_in_and_sees_their_networks_as_participant(page: Page, stack: Stack, provider: Provider):
    sign_in(page, stack, provider, "kees")
    overvecht = page.locator("li.card").filter(has_text="Leerkring Buurtteam Overvecht")
    expect(overvecht).to_contain_text("deelnemer")
    looked_at(page, "home-participant")


def test_an_email_kring_does_not_know_gets_a_clear_page_and_no_session(page: Page, stack: Stack, provider: Provider):
    provider.set_user("stranger", "stranger@elders.example")
    page.goto(f"{stack.console}/sign-in")
    page.get_by_role("link", name="Inloggen met uw organisatie-account").click()
    at_provider(page, provider, "stranger")
    expect(page.get_by_role("alert")).to_contain_text("stranger@elders.example is niet bekend in Kring")
    looked_at(page, "sign-in-unknown-email")
    page.goto(f"{stack.console}/")
    expect(page).to_have_url(at(f"{stack.console}/sign-in"))


def test_an_email_the_provider_has_not_verified_is_refused(page: Page, stack: Stack, provider: Provider):
    provider.set_user("unverified", "fatima.elamrani@utrecht.example", email_verified=False)
    page.goto(f"{stack.console}/sign-in")
    page.get_by_role("link", name="Inloggen met uw organisatie-account").click()
    at_provider(page, provider, "unverified")
    expect(page.get_by_role("alert")).to_contain_text("bevestigt uw e-mailadres niet")
    page.goto(f"{stack.console}/")
    expect(page).to_have_url(at(f"{stack.console}/sign-in"))


def test_signing_out_revokes_the_token_so_a_copy_of_the_cookie_is_no_session(
        page: Page, stack: Stack, provider: Provider):
    sign_in(page, stack, provider, "fatima")
    kept = page.context.cookies()
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("status")).to_contain_text("U bent uitgelogd")
    page.context.add_cookies(kept)  # someone kept the cookie from before the sign-out
    page.goto(f"{stack.console}/")
    expect(page).to_have_url(at(f"{stack.console}/sign-in"))
    expect(page.get_by_role("status")).to_contain_text("Uw sessie is verlopen")


def test_a_participant_who_chooses_english_gets_english_pages_that_say_so(page: Page, stack: Stack,
                                                                          provider: Provider):
    sign_in(page, stack, provider, "kees")
    page.get_by_label("Taal").select_option("en")
    page.get_by_role("button", name="Kies").click()
    expect(page.get_by_role("heading", name="My networks")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "en", "screen readers read the page as English"
    looked_at(page, "home-participant-english")
