"""The console's people, scene by scene, in a real browser: each scene is done through the pages as a person does it
(following links, filling in and submitting forms). The admin API is used only to READ a fact a scene asserts on
(a member's id, how many outputs a network has), never to act; each such read says so.

Every page a scene visits is checked with axe-core and kept as a screenshot (``looked_at``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from services.demo import demo_member
from tests.browser.console import looked_at, sign_in
from tests.support.browser import keep_offline, watch_errors
from tests.support.http import ok
from tests.support.oidc import Provider
from tests.support.stack import Stack

DUTCH = ZoneInfo("Europe/Amsterdam")  # the console's forms take Dutch time
FEED_WAIT = 30.0  # seconds an output may take to travel through the federation service to a linked network


@pytest.fixture
def another_person(browser: Browser, provider: Provider) -> Iterator[Callable[[], Page]]:
    """A second (third...) person at their own computer: a fresh browser context each, held to what the ``page``
    fixture holds its one to (offline, no script error, nothing the Content-Security-Policy blocked)."""
    opened: list[tuple[Any, list[str], list[str]]] = []

    def open_one() -> Page:
        context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        outside: list[str] = []
        keep_offline(context, outside)
        page = context.new_page()
        opened.append((context, outside, watch_errors(page)))
        return page

    yield open_one
    problems: list[str] = []
    for context, outside, errors in opened:
        context.close()
        problems += [line for line in outside + errors if not line.startswith(provider.issuer)]
    assert not problems, "the browser reported problems on the pages:\n" + "\n".join(problems)


# --- facts read from the API (reading only) ---------------------------------------------------------------------


def network_id(stack: Stack, name: str) -> str:
    with stack.client() as operator:
        networks: list[dict[str, Any]] = ok(operator.get("/v1/networks", params={"page_size": 100}))["items"]
    return next(str(n["id"]) for n in networks if n["name"] == name)


def member_id(stack: Stack, key: str, network: str) -> str:
    email = demo_member(key).email
    with stack.client() as operator:
        members: list[dict[str, Any]] = ok(operator.get("/v1/members", params={"network_id": network,
                                                                              "page_size": 200}))["items"]
    return next(str(m["id"]) for m in members if m.get("email") == email)


def output_titles(stack: Stack, network: str) -> list[str]:
    with stack.client() as operator:
        items = ok(operator.get(f"/v1/networks/{network}/outputs", params={"page_size": 200}))["items"]
    return [str(o.get("title", "")) for o in items]


# --- small steps ----------------------------------------------------------------------------------------------


def local(moment: datetime) -> str:
    """A moment as a datetime-local field takes it, in Dutch time."""
    return moment.astimezone(DUTCH).strftime("%Y-%m-%dT%H:%M")


def settled(page: Page) -> None:
    """Wait until htmx has no request in flight and has finished swapping: a click on a boosted link or form
    changes the page only then, and a click on the old page would be lost."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def follow(page: Page, link: Any) -> None:
    """Click a link or a submit button and wait for the page it leads to."""
    link.click()
    settled(page)


def open_network(page: Page, name: str) -> None:
    follow(page, page.get_by_role("link", name="Mijn netwerken", exact=True).first)
    follow(page, page.get_by_role("link", name=name, exact=True).first)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def open_tab(page: Page, tab: str) -> None:
    tabs = page.get_by_role("navigation", name="Onderdelen van het netwerk")
    follow(page, tabs.get_by_role("link", name=tab, exact=True))
    expect(tabs.get_by_role("link", name=tab, exact=True)).to_have_attribute("aria-current", "page")


def unique(title: str) -> str:
    """A title no earlier run left in the demo data (the stack is one per module)."""
    return f"{title} {time.strftime('%H%M%S')}"


# --- the scenes -------------------------------------------------------------------------------------------------


def test_a_coordinator_schedules_holds_records_attendance_and_publishes_with_a_non_consenting_coauthor_unnamed_outside(
        page: Page, another_person: Callable[[], Page], stack: Stack, provider: Provider) -> None:
    utrecht_name = "Werkplaats Sociaal Domein Utrecht"
    title = unique("Leersessie armoede en schulden")
    # Esther: a participant of Utrecht who did not consent to be named outside it (named_in_shared_outputs False).
    assert not demo_member("esther").named_in_shared_outputs and demo_member("fatima").named_in_shared_outputs
    esther_id = member_id(stack, "esther", network_id(stack, utrecht_name))  # read: to check it never shows outside

    # The coordinator schedules a learning session that began an hour ago (so it can be held today).
    sign_in(page, stack, provider, "fatima")
    open_network(page, utrecht_name)
    open_tab(page, "Bijeenkomsten")
    looked_at(page, "scene1-coordinator-sessions")
    follow(page, page.get_by_role("link", name="Bijeenkomst plannen"))
    page.get_by_label("Leersessie").check()
    follow(page, page.get_by_role("button", name="Verder"))
    looked_at(page, "scene1-coordinator-schedule-form")
    now = datetime.now(DUTCH)
    page.get_by_label("Titel").fill(title)
    page.locator("#f-location").fill("Stadskantoor Utrecht, zaal 4")
    page.get_by_label("Begint op").fill(local(now - timedelta(hours=1)))
    page.get_by_label("Eindigt op").fill(local(now + timedelta(hours=1)))
    follow(page, page.get_by_role("button", name="Bijeenkomst plannen"))
    expect(page.get_by_role("heading", level=2, name=title)).to_be_visible()
    looked_at(page, "scene1-coordinator-session-planned")
    session_url = page.url

    # A participant of the network registers, at their own computer, from the network's list of sessions.
    esther = another_person()
    sign_in(esther, stack, provider, "esther")
    open_network(esther, utrecht_name)
    open_tab(esther, "Bijeenkomsten")
    follow(esther, esther.get_by_role("link", name=title))
    expect(esther.locator("#mine-status")).to_have_text("U bent niet aangemeld.")
    looked_at(esther, "scene1-participant-session")
    follow(esther, esther.get_by_role("button", name="Aanmelden"))
    expect(esther.locator("#mine-status")).to_have_text("U bent aangemeld en heeft een plaats.")
    looked_at(esther, "scene1-participant-registered")

    # The coordinator sees the registration, holds the session and records attendance from the registration list.
    page.goto(session_url)
    registrations = page.get_by_role("table", name=re.compile("."))
    expect(registrations.get_by_role("cell", name="Esther de Boer", exact=True)).to_be_visible()
    follow(page, page.get_by_role("link", name="Markeren als gehouden"))
    looked_at(page, "scene1-coordinator-hold-confirm")
    follow(page, page.get_by_role("button", name="Ja, gehouden"))
    expect(page.get_by_role("heading", name="Aanwezigheid")).to_be_visible()
    looked_at(page, "scene1-coordinator-session-held")
    attendance = page.locator("section[aria-labelledby=attendance-title]")
    attendance.get_by_role("checkbox", name=re.compile(r"^Esther de Boer")).check()
    follow(page, attendance.get_by_role("button", name="Aanwezigheid opslaan"))
    expect(page.locator("section[aria-labelledby=attendance-title]").get_by_role(
        "checkbox", name=re.compile(r"^Esther de Boer"))).to_be_checked()

    # ... publishes an output for linked networks with Esther as co-author, previewing it as outsiders see it.
    follow(page, page.get_by_role("link", name="Opbrengst publiceren"))
    looked_at(page, "scene1-coordinator-publish-form")
    output_title = unique("Wat schulden met mensen doen")
    page.locator("#f-kind").select_option("lesson")
    page.locator("#f-title").fill(output_title)
    page.locator("#f-body").fill("Schaamte houdt mensen weg bij hulp; een ervaringsdeskundige opent de deur.")
    page.get_by_role("checkbox", name=re.compile(r"^Fatima El Amrani")).check()
    page.get_by_role("checkbox", name=re.compile(r"^Esther de Boer")).check()
    page.locator("#f-themes").fill("armoede, schulden")
    page.locator("#f-visibility").select_option("linked")
    follow(page, page.get_by_role("button", name="Voorbeeld bekijken"))
    outside = page.get_by_role("article", name="De opbrengst zoals anderen buiten het netwerk haar zien")
    expect(outside).to_be_visible()
    looked_at(page, "scene1-coordinator-outside-preview")
    expect(outside).to_contain_text("Fatima El Amrani")
    expect(outside).to_contain_text("een ervaringsdeskundige")  # said as the linked network will read it below
    expect(outside).to_contain_text("zonder naam")
    preview_text = outside.inner_text()
    assert "Esther" not in preview_text and esther_id not in preview_text, preview_text
    assert esther_id not in outside.inner_html(), "the outside preview carries the co-author's member id"
    follow(page, page.get_by_role("button", name="Publiceren"))
    expect(page.get_by_role("heading", level=2, name=output_title)).to_be_visible()
    looked_at(page, "scene1-coordinator-output")

    # Delivery is asynchronous: the coordinator watches the output's delivery log until BeterOud received it.
    follow(page, page.get_by_role("link", name="Waar deze opbrengst terechtkwam"))
    received = page.get_by_role("row", name=re.compile(r"^BeterOud"))
    deadline = time.monotonic() + FEED_WAIT
    while not received.count() and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.reload()
    expect(received).to_be_visible()
    looked_at(page, "scene1-coordinator-deliveries")

    # A member of a linked network (BeterOud, Utrecht's parent) finds it in their feed, Esther not named. The feed
    # lists what arrived oldest first, 20 at a time: they load more until the newest.
    anouk = another_person()
    sign_in(anouk, stack, provider, "anouk")  # coordinator of BeterOud, no member of Utrecht
    open_network(anouk, "BeterOud")
    open_tab(anouk, "Gedeeld met ons")
    card = anouk.locator("li.card", has=anouk.get_by_role("heading", name=output_title))
    more = anouk.get_by_role("link", name="Meer laden")
    while not card.count() and more.count():
        follow(anouk, more)
    expect(card).to_be_visible()
    looked_at(anouk, "scene1-linked-network-feed")
    expect(card).to_contain_text("Door: een ervaringsdeskundige, Fatima El Amrani")  # as the preview said
    assert "Esther" not in card.inner_text() and esther_id not in card.inner_html(), card.inner_html()
    assert esther_id not in anouk.content(), "the member id of a non-consenting author reached another network"


def test_a_coordinator_accepts_a_link_request_from_another_networks_coordinator(
        page: Page, another_person: Callable[[], Page], stack: Stack, provider: Provider) -> None:
    # Noord-Holland Noord and Rotterdam-Rijnmond: two werkplaatsen under BeterOud, not linked to each other.
    asking, asked = "Werkplaats Sociaal Domein Noord-Holland Noord", "Werkplaats Sociaal Domein Rotterdam-Rijnmond"
    marco = another_person()
    sign_in(marco, stack, provider, "marco")  # coordinator of Noord-Holland Noord
    open_network(marco, asking)
    open_tab(marco, "Verbindingen")
    looked_at(marco, "scene2-asking-coordinator-links")
    marco.locator("#f-target_network_id").select_option(label=asked)
    follow(marco, marco.get_by_role("button", name="Verbinding aanvragen").first)
    expect(marco.get_by_text("De verbinding is aangevraagd.")).to_be_visible()
    row = marco.get_by_role("row", name=re.compile(re.escape(asked)))
    expect(row).to_contain_text("aangevraagd (door ons gevraagd)")
    looked_at(marco, "scene2-asking-coordinator-requested")

    sign_in(page, stack, provider, "naima")  # coordinator of Rotterdam-Rijnmond
    open_network(page, asked)
    open_tab(page, "Verbindingen")
    row = page.get_by_role("row", name=re.compile(re.escape(asking)))
    expect(row).to_contain_text("aangevraagd (door hen gevraagd)")
    looked_at(page, "scene2-asked-coordinator-links")
    follow(page, row.get_by_role("button", name=f"Accepteren met {asking}"))
    expect(page.get_by_text("De verbinding is actief.")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(re.escape(asking)))).to_contain_text("actief")
    looked_at(page, "scene2-asked-coordinator-accepted")

    # The asking side sees it active too.
    marco.reload()
    expect(marco.get_by_role("row", name=re.compile(re.escape(asked)))).to_contain_text("actief")


def test_a_participant_registers_reflects_and_downloads_their_data_with_their_name(
        page: Page, stack: Stack, provider: Provider) -> None:
    sign_in(page, stack, provider, "kees")  # participant of Utrecht
    open_network(page, "Werkplaats Sociaal Domein Utrecht")
    open_tab(page, "Bijeenkomsten")
    looked_at(page, "scene3-participant-sessions")
    upcoming = page.locator("section[aria-labelledby=upcoming-title]")
    follow(page, upcoming.get_by_role("link").first)
    looked_at(page, "scene3-participant-session")
    expect(page.locator("#mine-status")).to_have_text("U bent niet aangemeld.")
    prepared = page.locator("#f-prepared")
    if prepared.count():  # a network that asks for preparation: Kees prepared
        prepared.check()
    follow(page, page.get_by_role("button", name="Aanmelden"))
    expect(page.locator("#mine-status")).to_contain_text("U bent aangemeld")
    looked_at(page, "scene3-participant-registered")

    follow(page, page.get_by_role("link", name="Mijn gegevens", exact=True).first)
    looked_at(page, "scene3-participant-me")
    follow(page, page.get_by_role("link", name="Mijn reflecties"))
    looked_at(page, "scene3-participant-reflections")
    reflection = unique("Ik merk dat ik vaker vertel wat bij de cliëntenraad speelt.")
    page.get_by_label("Gedrag", exact=True).check()
    page.locator("#f-text").fill(reflection)
    follow(page, page.get_by_role("button", name="Reflectie opslaan"))
    expect(page.get_by_text("Uw reflectie is opgeslagen.")).to_be_visible()
    expect(page.get_by_role("cell", name=reflection)).to_be_visible()
    looked_at(page, "scene3-participant-reflection-saved")

    follow(page, page.get_by_role("link", name="Mijn gegevens", exact=True).first)
    follow(page, page.get_by_role("link", name="Mijn gegevens downloaden"))
    looked_at(page, "scene3-participant-export")
    with page.expect_download() as downloading:
        follow(page, page.get_by_role("link", name="Download mijn gegevens"))
    download = downloading.value
    assert download.suggested_filename == "kring-mijn-gegevens.json"
    exported = json.loads(open(download.path(), encoding="utf-8").read())
    text = json.dumps(exported, ensure_ascii=False)
    assert "Kees Bos" in text, "the export holds the person's name"
    assert reflection in text, "the export holds the reflection just written"


def test_a_resource_published_without_its_link_shows_the_links_error_next_to_it_and_saves_nothing(
        page: Page, stack: Stack, provider: Provider) -> None:
    utrecht_name = "Werkplaats Sociaal Domein Utrecht"
    utrecht = network_id(stack, utrecht_name)
    before = output_titles(stack, utrecht)  # read: what the network has, to see nothing was added
    sign_in(page, stack, provider, "fatima")
    open_network(page, utrecht_name)
    open_tab(page, "Bijeenkomsten")
    # a session held or closed (an output may be published of either)
    past = page.locator("section[aria-labelledby=past-title] tbody tr", has_text=re.compile("gehouden|afgesloten"))
    follow(page, past.first.get_by_role("link"))
    follow(page, page.get_by_role("link", name="Opbrengst publiceren"))
    title = unique("Factsheet schuldhulp zonder link")
    page.locator("#f-kind").select_option("resource")
    page.locator("#f-title").fill(title)
    page.get_by_role("checkbox", name=re.compile(r"^Fatima El Amrani")).check()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        follow(page, page.get_by_role("button", name="Publiceren"))
    assert posted.value.status == 422
    url_field = page.locator(".field", has=page.locator("#f-url"))
    expect(url_field).to_have_class(re.compile(r"\binvalid\b"))
    expect(url_field.locator("p.error")).not_to_be_empty()
    expect(page.locator("#f-url")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-title")).to_have_value(title)  # what was typed is kept
    looked_at(page, "scene4-coordinator-output-form-with-errors")
    after = output_titles(stack, utrecht)
    assert title not in after and len(after) == len(before), "a refused form saves nothing"
