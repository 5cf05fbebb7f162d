"""Every page of the console, as each kind of person reaches it by following links from their start page: each
answers, passes axe-core with nothing serious or critical, and is kept as a screenshot. And a page of a role the
person does not have is a clear refusal, not an error."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import OPERATOR
from tests.browser.console import looked_at, sign_in, walk
from tests.support.http import ok
from tests.support.oidc import Provider
from tests.support.stack import Stack


def network_id(stack: Stack, name: str) -> str:
    with stack.client() as operator:
        networks: list[dict[str, Any]] = ok(operator.get("/v1/networks", params={"page_size": 100}))["items"]
    return next(str(n["id"]) for n in networks if n["name"] == name)


def a_held_session(stack: Stack, network: str) -> str:
    """A session of the network that was held and not yet closed (its page offers attendance and outputs), or else
    a closed one."""
    with stack.client() as operator:
        for status in ("held", "closed"):
            found = ok(operator.get(f"/v1/networks/{network}/sessions", params={"status": status}))["items"]
            if found:
                return str(found[-1]["id"])
    raise AssertionError(f"the demo data has no held session in network {network}")


def test_every_page_a_coordinator_reaches_answers_and_is_accessible(page: Page, stack: Stack, provider: Provider):
    utrecht = network_id(stack, "Werkplaats Sociaal Domein Utrecht")
    sign_in(page, stack, provider, "fatima")  # coordinator of the Utrecht werkplaats
    shapes = walk(page, stack.console, "coordinator",
                  first=(f"/networks/{utrecht}", f"/sessions/{a_held_session(stack, utrecht)}"))
    assert {"/networks/{id}", "/networks/{id}/members", "/networks/{id}/links", "/networks/{id}/health"} <= set(
        shapes), shapes


def test_every_page_a_facilitator_reaches_answers_and_is_accessible(page: Page, stack: Stack, provider: Provider):
    utrecht = network_id(stack, "Werkplaats Sociaal Domein Utrecht")
    sign_in(page, stack, provider, "joost")  # facilitator in Utrecht
    shapes = walk(page, stack.console, "facilitator",
                  first=(f"/networks/{utrecht}", f"/sessions/{a_held_session(stack, utrecht)}"))
    assert "/networks/{id}" in shapes, shapes


def test_every_page_a_participant_reaches_answers_and_is_accessible(page: Page, stack: Stack, provider: Provider):
    sign_in(page, stack, provider, "kees")  # participant in Utrecht and in Overvecht; consents to nothing
    shapes = walk(page, stack.console, "participant")
    assert "/networks/{id}" in shapes, shapes


def test_every_page_the_operator_reaches_answers_and_is_accessible(page: Page, stack: Stack, provider: Provider):
    sign_in(page, stack, provider, OPERATOR)
    # a network's pages look for the operator as for its coordinator (walked above): the operator's own pages here
    shapes = walk(page, stack.console, "operator", first=("/",), within=("/operator/",))
    assert {"/operator/partners", "/operator/peers", "/operator/audit"} <= set(shapes), shapes


def test_a_participant_opening_a_coordinators_page_gets_a_clear_refusal(page: Page, stack: Stack, provider: Provider):
    utrecht = network_id(stack, "Werkplaats Sociaal Domein Utrecht")
    sign_in(page, stack, provider, "kees")
    answer = page.goto(f"{stack.console}/networks/{utrecht}/links")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Geen toegang")
    expect(page.get_by_role("link", name="Terug naar mijn netwerken")).to_be_visible()
    looked_at(page, "participant-refused")


def test_a_session_that_ends_before_it_starts_is_drawn_again_with_the_fields_error_and_nothing_saved(
        page: Page, stack: Stack, provider: Provider):
    utrecht = network_id(stack, "Werkplaats Sociaal Domein Utrecht")

    def sessions() -> int:
        with stack.client() as operator:
            return len(ok(operator.get(f"/v1/networks/{utrecht}/sessions", params={"page_size": 200}))["items"])

    before = sessions()
    sign_in(page, stack, provider, "fatima")
    page.goto(f"{stack.console}/networks/{utrecht}/sessions/new?format=world_cafe")
    page.get_by_label("Titel").fill("Wereldcafé: de tijd loopt terug")
    page.get_by_label("Begint op").fill("2027-03-10T15:00")
    page.get_by_label("Eindigt op").fill("2027-03-10T13:00")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Bijeenkomst plannen").click()
    assert posted.value.status == 422
    invalid = page.locator(".field.invalid")
    expect(invalid.first).to_be_visible()
    expect(invalid.locator("p.error").first).not_to_be_empty()
    expect(page.get_by_label("Titel")).to_have_value("Wereldcafé: de tijd loopt terug")
    looked_at(page, "coordinator-session-form-with-errors")
    assert sessions() == before, "a refused form saves nothing"
