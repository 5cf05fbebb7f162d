"""Every page in the person's language: a page asked for in English says nothing in Dutch (the API's words
included: the console asks it in the page's language), and in Dutch the console's own words are Dutch.

The pages are drawn with the fake admin APIs of each part's tests; their data (names, titles, themes) is Dutch, so
the check looks for the console's own Dutch: every Dutch text in the catalogue, and a few everyday Dutch words."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest

from services.console.texts import CONSOLE
from tests.unit.console.fake_api import FakeAdminApi, console, signed_in


def _networks(role: str = "coordinator") -> Callable[[], FakeAdminApi]:
    def build() -> FakeAdminApi:
        from tests.unit.console import test_console_networks as networks

        api = networks.api_for(role)
        api.on("GET", "/v1/members", (200, {"items": [networks.a_member("m-1", "Anouk de Vries", "coordinator"),
                                                      networks.a_member("m-5", "Sanne Bakker")],
                                            "next_page_token": None}))
        api.on("GET", f"/v1/networks/{networks.NET}/health", (200, networks.a_health_report()))
        api.on("GET", f"/v1/networks/{networks.NET}/learning-report", (200, networks.a_learning_report()))
        api.on("GET", f"/v1/networks/{networks.NET}/feed", (200, networks.feed_page()))
        api.on("GET", "/v1/outputs/o-1/deliveries", (200, {"output_id": "o-1", "origin_network_id": networks.NET,
                                                           "items": [
            {"network_id": "zorg-zwolle", "delivered_at": "2026-02-01T09:30:00Z", "backfill": False,
             "tombstoned_at": None},
            {"network_id": "public", "delivered_at": "2026-02-01T09:30:00Z", "backfill": True,
             "tombstoned_at": "2026-02-03T10:00:00Z"}]}))
        api.on("GET", "/v1/members/m-5", (200, networks.a_member("m-5", "Sanne Bakker")))
        api.on("GET", "/v1/links/l-2", (200, networks.a_link("l-2", networks.NET, "beter-oud", "active")))
        links = networks.links_api()
        for route, answer in links.routes.items():
            if route[1].startswith(f"/v1/networks/{networks.NET}/links"):
                api.routes[route] = answer
        return api
    return build


def _sessions() -> FakeAdminApi:
    from tests.unit.console.test_console_outputs import outputs_api

    return outputs_api()


def _me() -> FakeAdminApi:
    from tests.unit.console.test_console_me import reflections_api

    return reflections_api()


def _experts() -> FakeAdminApi:
    from tests.unit.console.test_console_me import experts_api

    api, _ = experts_api()
    api.on("GET", "/v1/questions/q-2", (200, {
        "id": "q-2", "role": "received", "network_id": "n-1", "tag": None, "question": "Weet u iets van wonen?",
        "status": "open", "asked_at": "2026-11-02T10:00:00Z", "closed_at": None, "answer": None,
        "decline_reason": None, "revision": 1, "asker": {"name": None, "perspectives": ["resident"]}}))
    return api


def _operator(which: str) -> Callable[[], FakeAdminApi]:
    def build() -> FakeAdminApi:
        from tests.unit.console import test_console_operator as operator

        if which == "audit":
            api = operator.operator_api()
            api.on("GET", "/v1/audit", (200, {"items": [operator.an_entry("a-1", "token.issued",
                                                                          "2026-12-03T10:00:00Z")]}))
            return api
        return operator.partners_api() if which == "partners" else operator.peers_api()
    return build


NET = "werkplaats-utrecht"
PAGES: list[tuple[str, Callable[[], FakeAdminApi]]] = [
    ("/", _me), ("/me", _me), ("/me/export", _me), ("/me/reflections", _me),
    ("/experts", _experts), ("/experts/m-7/ask", _experts), ("/experts/questions/q-2", _experts),
    *[(f"/networks/{NET}{suffix}", _networks()) for suffix in
      ("", "/edit", "/archive", "/members", "/members/m-5/remove", "/health",
       "/learning?period_from=2026-01-01&period_to=2026-03-31", "/links", "/links/l-2/revoke", "/feed")],
    ("/outputs/o-1/deliveries", _networks()),
    ("/networks/n-1/sessions", _sessions), ("/networks/n-1/sessions/new", _sessions), ("/sessions/s-1", _sessions),
    ("/networks/n-1/outputs", _sessions), ("/sessions/s-1/outputs/new", _sessions), ("/outputs/o-1", _sessions),
    ("/outputs/o-1/retract", _sessions),
    ("/operator/partners", _operator("partners")), ("/operator/partners/p-1", _operator("partners")),
    ("/operator/peers", _operator("peers")), ("/operator/peers/kring-zuid", _operator("peers")),
    ("/operator/audit", _operator("audit")),
]


def visible(html: str) -> str:
    """The page's words as read: text and the attributes read aloud, without tags, scripts or hidden values."""
    html = re.sub(r'<input type="hidden"[^>]*>', "", html)
    spoken = " ".join(re.findall(r'(?:aria-label|title|alt|placeholder)="([^"]*)"', html))
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(f"{text} {spoken}"))


def page_in(language: str, path: str, build: Callable[[], FakeAdminApi]) -> str:
    page = signed_in(console(build())).get(path, headers={"Accept-Language": language})
    assert page.status_code == 200, (path, page.status_code)
    return visible(page.text)


def only_in(language: str, other: str) -> list[str]:
    """The catalogue's texts in ``language`` that are not also in ``other``, up to their first placeholder."""
    def forms_of(forms: dict, lang: str) -> tuple[str, ...]:
        return forms[lang] if isinstance(forms[lang], tuple) else (forms[lang],)

    found: set[str] = set()
    for forms in CONSOLE.values():
        for form in forms_of(forms, language):
            head = form.split("{")[0].strip(" .:·,")
            if len(head) >= 12 and not any(head in o for o in forms_of(forms, other)):
                found.add(head)
    return sorted(found)


@pytest.mark.parametrize(("path", "build"), PAGES, ids=[path for path, _ in PAGES])
def test_a_page_in_english_says_nothing_in_the_consoles_dutch(path: str, build: Callable[[], FakeAdminApi]):
    text = page_in("en", path, build)
    leaked = [dutch for dutch in only_in("nl", "en") if dutch in text]
    assert leaked == [], path


@pytest.mark.parametrize(("path", "build"), PAGES, ids=[path for path, _ in PAGES])
def test_a_page_in_dutch_says_nothing_in_the_consoles_english(path: str, build: Callable[[], FakeAdminApi]):
    text = page_in("nl", path, build)
    leaked = [english for english in only_in("en", "nl") if english in text]
    assert leaked == [], path


def test_the_check_would_see_a_dutch_text_on_an_english_page():
    # The check's own test: the catalogue gives it many texts, and one on a page is found.
    assert len(only_in("nl", "en")) > 200 and len(only_in("en", "nl")) > 200
    dutch_home = page_in("nl", "/", _me)
    assert [dutch for dutch in only_in("nl", "en") if dutch in dutch_home]
