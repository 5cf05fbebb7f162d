"""The answers the fake API gives the own and operator pages' tests (and the feed's) are the real API's shapes:
each validates against the response model of its route, so a page that reads a field the API does not send fails
here."""

from __future__ import annotations

import httpx

from services.common.audit import AuditEntry
from services.federation.domain.copies import with_author_roles
from services.federation.peers.schemas import PeerNetworkOut, PeerOut
from services.federation.schemas import FeedPage, PartnerKey, PartnerOut
from services.members.schemas import MemberOut, NetworkExpertOut, QuestionOut
from services.sessions.schemas.views import ReflectionPage, SessionOut, SessionPage
from tests.unit.console.test_console_me import (
    EXPERT,
    a_member,
    a_session,
    experts_api,
    my_reflections,
    network_sessions,
    upcoming_of_mine,
)
from tests.unit.console.test_console_networks import feed_page
from tests.unit.console.test_console_operator import (
    NEW_KEY,
    a_directory_network,
    a_partner,
    a_peer,
    an_entry,
    an_entry_by_a_signed_in_operator,
)


def test_the_own_pages_fakes_are_the_apis_shapes():
    MemberOut.model_validate(a_member())
    ReflectionPage.model_validate(my_reflections("b2xkZXI="))
    SessionPage.model_validate(network_sessions())
    SessionOut.model_validate(a_session(id="s-old", title="Vorig jaar", status="closed"))
    NetworkExpertOut.model_validate(EXPERT)
    for session in upcoming_of_mine():
        SessionOut.model_validate(session)
    api, _ = experts_api()
    for role in ("asked", "received"):
        handler = api.routes[("GET", "/v1/questions")]
        assert callable(handler)
        _, page = handler(httpx.Request("GET", f"http://api/v1/questions?role={role}"))
        for item in page["items"]:
            QuestionOut.model_validate(item)


def test_the_operator_pages_fakes_are_the_apis_shapes():
    PartnerOut.model_validate(a_partner())
    PartnerKey.model_validate({**a_partner(), "api_key": NEW_KEY})
    PeerOut.model_validate(a_peer())
    PeerNetworkOut.model_validate(a_directory_network("z-1", "offered"))
    AuditEntry.model_validate(an_entry("a-1", "member.erased", "2026-12-03T10:00:00Z"))
    for person_id in ("m-olga", None):
        AuditEntry.model_validate(an_entry_by_a_signed_in_operator(person_id))


def test_the_feeds_fake_is_the_apis_shape_with_the_role_codes_the_federation_service_adds():
    page = feed_page()
    FeedPage.model_validate(page)
    copy = page["items"][0]["output"]
    stored = {**copy, "authors": [{"shown_as": a["shown_as"], "named": a["named"]} for a in copy["authors"]]}
    assert with_author_roles(stored) == copy  # the codes the console translates are the ones the service sends
    tombstone = page["items"][1]["output"]
    assert with_author_roles(tombstone) == tombstone
