"""The sessions pages: the list, scheduling every format, one session, registrations, the life cycle, attendance
and a café's conclusions. What is drawn, what is sent to the API (as the signed-in person, with the form's key),
the API's refusal drawn next to each field with nothing saved, and a participant getting no staff forms."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from services.common.vocabulary import SessionFormat
from tests.unit.console.fake_api import TOKEN, FakeAdminApi, a_member_api, api_error, console, csrf_of, signed_in

NETWORK = {"id": "n-1", "name": "BeterOud", "level": "national", "kind": "knowledge_network", "theme": "Ouder worden",
           "urgency": None, "host_organisation": None, "parent_id": None, "region": None, "cadence_weeks": 6,
           "start_date": None, "requires_preparation": False, "unprepared_policy": "refuse", "status": "active",
           "coordinators": [], "facilitators": [], "member_count": 3, "created_at": "2026-01-01T10:00:00Z",
           "updated_at": "2026-01-01T10:00:00Z", "revision": 1}


def a_member(member_id: str, name: str, perspectives: list[str], named: bool) -> dict[str, Any]:
    return {"id": member_id, "name": name, "email": f"{member_id}@example.org", "organisation": None,
            "perspectives": perspectives, "expertise": [], "findable_by_expertise": False,
            "named_in_shared_outputs": named,
            "memberships": [{"network_id": "n-1", "role": "participant", "joined_at": "2026-01-01T10:00:00Z"}],
            "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-01T10:00:00Z", "revision": 1}


MEMBERS = [
    a_member("m-1", "Anouk de Vries", ["practitioner"], True),
    a_member("m-2", "Bram Jansen", ["lived_experience"], False),
    a_member("m-3", "Chantal Bakker", [], False),
]


def a_session(**changes: Any) -> dict[str, Any]:
    session = {
        "id": "s-1", "network_id": "n-1", "title": "Wereldcafé eenzaamheid", "format": "world_cafe",
        "mode": "in_person", "location": "Utrecht", "meeting_url": None,
        "starts_at": "2026-12-10T13:00:00Z", "ends_at": "2026-12-10T16:00:00Z", "capacity": 2, "agenda": "",
        "contributions": [{"member_id": "m-1", "shown_as": "Anouk de Vries", "named": True, "topic": "Opening"}],
        "statements": ["Eenzaamheid is een taak van de buurt", "Iedereen kan helpen"], "conclusions": [],
        "status": "planned", "revision": 1, "cancel_reason": None, "reschedules": [], "registered_count": 2,
        "waitlisted_count": 1, "attendee_count": None, "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z",
    }
    session.update(changes)
    return session


REGISTRATIONS = [
    {"session_id": "s-1", "member_id": "m-1", "status": "registered", "prepared": None, "unprepared": False,
     "waitlist_position": None, "registered_at": "2026-11-02T10:00:00Z", "cancelled_at": None},
    {"session_id": "s-1", "member_id": "m-2", "status": "waitlisted", "prepared": None, "unprepared": False,
     "waitlist_position": 1, "registered_at": "2026-11-03T10:00:00Z", "cancelled_at": None},
]


def staff_api(**network: Any) -> FakeAdminApi:
    api = a_member_api(administers=("n-1",))
    api.on("GET", "/v1/networks/n-1", (200, {**NETWORK, **network}))
    api.on("GET", "/v1/members", (200, {"items": MEMBERS, "next_page_token": None}))
    api.on("GET", "/v1/networks/n-1/sessions", (200, {"items": [a_session()], "next_page_token": None}))
    api.on("GET", "/v1/sessions/s-1", (200, a_session()))
    api.on("GET", "/v1/sessions/s-1/registrations", (200, {"session_id": "s-1", "capacity": 2,
                                                           "items": REGISTRATIONS}))
    api.on("GET", "/v1/sessions/s-1/attendance", (200, {"session_id": "s-1", "revision": 0, "member_ids": [],
                                                        "attendee_count": 0, "perspective_counts": {},
                                                        "recorded_at": None}))
    api.on("GET", "/v1/sessions/s-1/outputs", (200, {"items": [], "next_page_token": None}))
    return api


# m-1's own registration, as GET /v1/sessions/s-1/registrations/m-1 answers it in each case
MINE_WAITLISTED = {**REGISTRATIONS[1], "member_id": "m-1", "waitlist_position": 3}
MINE_CANCELLED = {**REGISTRATIONS[0], "status": "cancelled", "cancelled_at": "2026-11-04T10:00:00Z"}
MINE_PREPARED = {**REGISTRATIONS[0], "prepared": True}
MINE_UNPREPARED = {**REGISTRATIONS[0], "prepared": False, "unprepared": True}
NOT_REGISTERED = api_error(404, "not_found", "member m-1 is not registered for session s-1",
                           [{"field": "member_id", "rule": "registered", "message": "not registered for this session"}])


def participant_api(mine: dict[str, Any] | None = None, **network: Any) -> FakeAdminApi:
    """m-1, a participant of n-1; ``mine``: their own registration as the API answers it (None: never made)."""
    api = staff_api(**network)
    api.on("GET", "/v1/whoami", (200, {"operator": False, "member_id": "m-1", "administers": [], "facilitates": [],
                                       "member_of": ["n-1"]}))
    refusal = api_error(403, "permission_denied", "only the network's coordinators and facilitators do this")
    for path in ("/v1/members", "/v1/sessions/s-1/registrations", "/v1/sessions/s-1/attendance"):
        api.on("GET", path, refusal)
    api.on("GET", "/v1/sessions/s-1/registrations/m-1", (200, mine) if mine else NOT_REGISTERED)
    return api


def posted(api: FakeAdminApi, method: str, path: str) -> list[Any]:
    return api.called(method, path)


def form_key_of(page: str, action: str) -> str:
    """The form_key of the form posting to ``action`` on the page."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', page, re.S)
    assert form, f"no form posts to {action}"
    key = re.search(r'name="form_key" value="([^"]+)"', form.group(0))
    assert key
    return key.group(1)


def text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# --- the list -------------------------------------------------------------------------------------------------


def test_the_list_asks_the_api_for_upcoming_and_past_sessions_and_shows_them():
    api = staff_api()
    client = signed_in(console(api))
    page = client.get("/networks/n-1/sessions")
    assert page.status_code == 200
    queries = [call.params for call in api.called("GET", "/v1/networks/n-1/sessions")]
    assert any("starts_from" in q and "starts_before" not in q for q in queries)  # upcoming
    assert any("starts_from" in q and "starts_before" in q for q in queries)  # the past year
    assert all(call.token == TOKEN for call in api.calls if call.path.startswith("/v1/networks/n-1/sessions"))
    assert "Wereldcafé eenzaamheid" in page.text and 'href="/sessions/s-1"' in page.text
    assert "10-12-2026 14:00" in page.text  # 13:00 UTC shown in Dutch time
    assert "2 van 2 bezet" in page.text and "1 op de wachtlijst" in page.text
    assert 'href="/networks/n-1/sessions/new"' in page.text


def test_past_sessions_show_the_most_recent_first_reading_every_page_of_the_year():
    api = staff_api()

    def sessions(request):
        if "starts_before" not in request.url.params:
            return 200, {"items": [], "next_page_token": None}
        if request.url.params.get("page_token") == "p2":
            return 200, {"items": [a_session(id="s-3", title="Derde")], "next_page_token": None}
        return 200, {"items": [a_session(id="s-1", title="Eerste"), a_session(id="s-2", title="Tweede")],
                     "next_page_token": "p2"}

    api.on("GET", "/v1/networks/n-1/sessions", sessions)
    page = signed_in(console(api)).get("/networks/n-1/sessions").text
    assert re.findall(r'<a href="/sessions/s-\d">(\w+)</a>', page) == ["Derde", "Tweede", "Eerste"]
    assert 'href="?year=2"' in page


def test_the_upcoming_pages_follow_the_apis_token_and_a_year_back_moves_the_window():
    api = staff_api()
    api.on("GET", "/v1/networks/n-1/sessions", (200, {"items": [a_session()], "next_page_token": "tok-2"}))
    client = signed_in(console(api))
    page = client.get("/networks/n-1/sessions")
    assert "?upcoming=tok-2" in page.text
    client.get("/networks/n-1/sessions?upcoming=tok-2&year=3")
    calls = api.called("GET", "/v1/networks/n-1/sessions")
    assert any(call.params.get("page_token") == "tok-2" for call in calls if "starts_before" not in call.params)
    windows = {call.params["starts_before"][:4] for call in calls if "starts_before" in call.params}
    assert len(windows) == 2  # this year's window, and the one two years before it
    assert client.get("/networks/n-1/sessions?year=nonsense").status_code == 200


def test_a_participant_sees_the_sessions_but_no_schedule_link_and_no_schedule_form():
    api = participant_api()
    client = signed_in(console(api))
    page = client.get("/networks/n-1/sessions")
    assert page.status_code == 200 and "Wereldcafé eenzaamheid" in page.text
    assert "/sessions/new" not in page.text
    assert client.get("/networks/n-1/sessions/new?format=webinar").status_code == 403


# --- scheduling -----------------------------------------------------------------------------------------------


def test_the_first_step_offers_every_format_the_api_knows():
    client = signed_in(console(staff_api()))
    page = client.get("/networks/n-1/sessions/new")
    assert page.status_code == 200
    for session_format in SessionFormat:
        assert f'value="{session_format.value}"' in page.text


@pytest.mark.parametrize("session_format", list(SessionFormat))
def test_every_format_gets_its_form_and_only_a_cafe_has_statements(session_format):
    client = signed_in(console(staff_api()))
    page = client.get(f"/networks/n-1/sessions/new?format={session_format.value}")
    assert page.status_code == 200
    assert f'name="format" value="{session_format.value}"' in page.text
    for name in ("title", "mode", "location", "meeting_url", "starts_at", "ends_at", "capacity", "agenda"):
        assert f'name="{name}"' in page.text, name
    cafe = session_format in (SessionFormat.WORLD_CAFE, SessionFormat.KNOWLEDGE_CAFE)
    assert ('name="statements.0"' in page.text) == cafe


def test_the_form_says_the_networks_preparation_policy():
    client = signed_in(console(staff_api(requires_preparation=True, unprepared_policy="flag")))
    page = client.get("/networks/n-1/sessions/new?format=action_learning_session")
    assert "kan zich wel aanmelden" in page.text


def test_scheduling_sends_the_apis_fields_as_the_member_with_the_forms_key():
    api = staff_api()
    api.on("POST", "/v1/networks/n-1/sessions", (201, a_session(id="s-9")))
    client = signed_in(console(api))
    page = client.get("/networks/n-1/sessions/new?format=world_cafe").text
    key = form_key_of(page, "/networks/n-1/sessions")
    answer = client.post("/networks/n-1/sessions", data={
        "csrf": csrf_of(page), "form_key": key, "format": "world_cafe", "title": " Wereldcafé ", "mode": "hybrid",
        "location": "Utrecht", "meeting_url": "https://meet.example.org/x", "starts_at": "2026-12-10T14:00",
        "ends_at": "2026-12-10T17:00", "capacity": "30", "agenda": "Welkom",
        "statements.0": "Eerste", "statements.1": "", "statements.2": "Derde",
        "contributions.0.member_id": "m-2", "contributions.0.topic": "Mijn verhaal",
        "contributions.1.member_id": "", "contributions.1.topic": "",
    })
    assert answer.status_code == 303 and answer.headers["location"] == "/sessions/s-9"
    [call] = api.called("POST", "/v1/networks/n-1/sessions")
    assert call.token == TOKEN and call.headers["idempotency-key"] == key
    assert call.body == {
        "title": "Wereldcafé", "format": "world_cafe", "mode": "hybrid", "location": "Utrecht",
        "meeting_url": "https://meet.example.org/x", "starts_at": "2026-12-10T14:00:00+01:00",
        "ends_at": "2026-12-10T17:00:00+01:00", "capacity": 30, "agenda": "Welkom",
        "statements": ["Eerste", "Derde"], "contributions": [{"member_id": "m-2", "topic": "Mijn verhaal"}],
    }


def test_a_refused_plan_is_drawn_again_with_each_error_next_to_its_field_and_nothing_saved():
    api = staff_api()
    api.on("POST", "/v1/networks/n-1/sessions", api_error(422, "invalid_input", "invalid input", [
        {"field": "location", "rule": "required_for_mode", "message": "a in_person session needs a location"},
        {"field": "ends_at", "rule": "after_starts_at", "message": "a session ends after it starts"},
        {"field": "statements.1", "rule": "string_too_long", "message": "at most 500 characters"},
    ]))
    client = signed_in(console(api))
    page = client.get("/networks/n-1/sessions/new?format=world_cafe").text
    answer = client.post("/networks/n-1/sessions", data={
        "csrf": csrf_of(page), "form_key": form_key_of(page, "/networks/n-1/sessions"), "format": "world_cafe",
        "title": "Café", "mode": "in_person", "starts_at": "2026-12-10T14:00", "ends_at": "2026-12-10T13:00",
        "statements.0": "", "statements.1": "Eerste", "statements.2": "Te lang",
    })
    assert answer.status_code == 422
    body = answer.text
    assert re.search(r'id="e-location">a in_person session needs a location<', body)
    assert re.search(r'id="e-ends_at">Het einde moet na het begin liggen.<', body)
    # Empty rows are dropped before sending, so the API's statements.1 is the second one drawn again.
    assert re.search(r'id="e-statements.1">Deze tekst is te lang.</p>\s*<input id="f-statements.1" '
                     r'name="statements.1" type="text" value="Te lang"', body)
    assert 'value="Café"' in body and "Er is niets opgeslagen" in body
    assert len(api.called("POST", "/v1/networks/n-1/sessions")) == 1


def test_a_participant_who_posts_a_plan_anyway_gets_the_apis_refusal():
    api = participant_api()
    api.on("POST", "/v1/networks/n-1/sessions",
           api_error(403, "permission_denied", "only the network's coordinators and facilitators do this"))
    client = signed_in(console(api))
    page = client.get("/networks/n-1/sessions").text
    answer = client.post("/networks/n-1/sessions", data={"csrf": csrf_of(page), "title": "x", "format": "webinar"})
    assert answer.status_code == 403 and "only the network's coordinators" in text(answer.text)


# --- one session ----------------------------------------------------------------------------------------------


def test_staff_see_the_session_its_registrations_and_waitlist_by_name():
    client = signed_in(console(staff_api()))
    page = client.get("/sessions/s-1")
    assert page.status_code == 200
    shown = text(page.text)
    assert "Wereldcafé eenzaamheid" in shown and "gepland" in shown
    assert "Eenzaamheid is een taak van de buurt" in shown
    assert "Anouk de Vries" in shown and "Bram Jansen" in shown and "plaats 1" in shown
    assert 'href="/sessions/s-1/hold"' in page.text and 'href="/sessions/s-1/cancel"' in page.text
    assert 'action="/sessions/s-1/reschedule"' in page.text
    # Only those not registered yet can be picked to register.
    picker = re.search(r'<select id="f-member_id".*?</select>', page.text, re.S)
    assert picker and 'value="m-3"' in picker.group(0) and 'value="m-1"' not in picker.group(0)
    assert 'action="/sessions/s-1/attendance"' not in page.text  # planned: nobody to mark present yet


def test_a_participant_sees_the_session_without_staff_forms_and_can_register_themself():
    api = participant_api()
    client = signed_in(console(api))
    page = client.get("/sessions/s-1")
    assert page.status_code == 200
    assert not api.called("GET", "/v1/sessions/s-1/registrations")
    for staff_only in ("/reschedule", "/attendance", 'href="/sessions/s-1/hold"', "/conclusion", 'name="member_id"'):
        assert staff_only not in page.text, staff_only
    for action in ("hold", "close", "cancel"):  # reached by URL: no confirmation form either
        assert client.get(f"/sessions/s-1/{action}").status_code == 403
    # Never registered (the API's 404): only registering is offered.
    assert [call.token for call in api.called("GET", "/v1/sessions/s-1/registrations/m-1")] == [TOKEN]
    assert "U bent niet aangemeld" in text(page.text)
    assert 'action="/sessions/s-1/registrations"' in page.text
    assert 'action="/sessions/s-1/registrations/m-1/cancel"' not in page.text


def test_a_participant_with_a_seat_is_told_so_and_offered_only_cancelling():
    page = signed_in(console(participant_api(mine=REGISTRATIONS[0]))).get("/sessions/s-1").text
    assert "U bent aangemeld en heeft een plaats" in text(page)
    assert 'action="/sessions/s-1/registrations/m-1/cancel"' in page
    assert 'action="/sessions/s-1/registrations"' not in page


def test_a_participant_on_the_waitlist_is_told_their_place_and_offered_only_cancelling():
    page = signed_in(console(participant_api(mine=MINE_WAITLISTED))).get("/sessions/s-1").text
    assert "U staat op de wachtlijst, plaats 3" in text(page)
    assert 'action="/sessions/s-1/registrations/m-1/cancel"' in page
    assert 'action="/sessions/s-1/registrations"' not in page


def test_a_participant_who_cancelled_is_offered_registering_again():
    page = signed_in(console(participant_api(mine=MINE_CANCELLED))).get("/sessions/s-1").text
    assert "U bent niet aangemeld" in text(page)
    assert 'action="/sessions/s-1/registrations"' in page
    assert 'action="/sessions/s-1/registrations/m-1/cancel"' not in page


@pytest.mark.parametrize(("mine", "shown"), [
    (MINE_PREPARED, "U heeft aangegeven dat u voorbereid bent"),
    (MINE_UNPREPARED, "Aangemeld zonder voorbereiding"),
])
def test_a_participant_sees_whether_their_registration_is_marked_prepared(mine, shown):
    api = participant_api(mine=mine, requires_preparation=True, unprepared_policy="flag")
    assert shown in text(signed_in(console(api)).get("/sessions/s-1").text)


def test_a_participant_is_not_asked_about_for_a_session_that_is_no_longer_planned():
    # Registering and cancelling are for planned sessions only: nothing to offer, so nothing to ask.
    api = participant_api(mine=REGISTRATIONS[0])
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status="held")))
    page = signed_in(console(api)).get("/sessions/s-1").text
    assert not api.called("GET", "/v1/sessions/s-1/registrations/m-1")
    assert "/registrations" not in page


def test_staff_are_not_asked_for_their_own_registration_they_see_the_whole_list():
    api = staff_api()
    signed_in(console(api)).get("/sessions/s-1")
    assert not api.called("GET", "/v1/sessions/s-1/registrations/m-1")


def test_registering_oneself_sends_no_member_id_and_says_where_one_stands():
    api = participant_api()
    api.on("POST", "/v1/sessions/s-1/registrations", (201, {**REGISTRATIONS[1], "member_id": "m-1"}))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    answer = client.post("/sessions/s-1/registrations", data={
        "csrf": csrf_of(page), "form_key": form_key_of(page, "/sessions/s-1/registrations")})
    assert answer.status_code == 303
    [call] = api.called("POST", "/v1/sessions/s-1/registrations")
    assert call.body == {} and call.token == TOKEN
    assert "wachtlijst, plaats 1" in client.get("/sessions/s-1").text


def test_where_the_network_asks_preparation_the_box_is_sent_and_the_refusal_lands_next_to_it():
    api = participant_api(requires_preparation=True, unprepared_policy="refuse")
    api.on("POST", "/v1/sessions/s-1/registrations", api_error(422, "invalid_input", "invalid input", [
        {"field": "prepared", "rule": "preparation_required",
         "message": "this network asks participants to have started applying the method before a session"}]))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    assert 'name="prepared"' in page
    answer = client.post("/sessions/s-1/registrations", data={
        "csrf": csrf_of(page), "form_key": form_key_of(page, "/sessions/s-1/registrations"),
        "preparation_asked": "1"})
    assert answer.status_code == 422
    assert api.called("POST", "/v1/sessions/s-1/registrations")[0].body == {"prepared": False}
    assert re.search(r'id="e-prepared">this network asks participants', answer.text)


def test_a_participant_cancels_their_own_registration():
    api = participant_api(mine=REGISTRATIONS[0])
    api.on("DELETE", "/v1/sessions/s-1/registrations/m-1", (200, {**REGISTRATIONS[0], "status": "cancelled"}))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    key = form_key_of(page, "/sessions/s-1/registrations/m-1/cancel")
    answer = client.post("/sessions/s-1/registrations/m-1/cancel", data={"csrf": csrf_of(page), "form_key": key})
    assert answer.status_code == 303
    [call] = api.called("DELETE", "/v1/sessions/s-1/registrations/m-1")
    assert call.token == TOKEN and call.headers["idempotency-key"] == key


def test_staff_register_a_member_of_the_network():
    api = staff_api()
    api.on("POST", "/v1/sessions/s-1/registrations", (201, {**REGISTRATIONS[1], "member_id": "m-3",
                                                             "waitlist_position": 2}))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    client.post("/sessions/s-1/registrations", data={"csrf": csrf_of(page), "member_id": "m-3"})
    assert api.called("POST", "/v1/sessions/s-1/registrations")[0].body == {"member_id": "m-3"}
    assert "Het lid staat op de wachtlijst, plaats 2" in client.get("/sessions/s-1").text


def test_rescheduling_sends_dutch_times_with_their_offset_and_a_conflict_is_shown_with_nothing_saved():
    api = staff_api()
    api.on("POST", "/v1/sessions/s-1/reschedule", api_error(409, "illegal_transition",
                                                            "cannot reschedule a held session"))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    assert 'value="2026-12-10T14:00"' in page  # the current start, in Dutch time
    answer = client.post("/sessions/s-1/reschedule", data={
        "csrf": csrf_of(page), "starts_at": "2027-06-01T10:00", "ends_at": "2027-06-01T12:00", "reason": "Zaal"})
    assert api.called("POST", "/v1/sessions/s-1/reschedule")[0].body == {
        "starts_at": "2027-06-01T10:00:00+02:00", "ends_at": "2027-06-01T12:00:00+02:00", "reason": "Zaal"}
    assert answer.status_code == 422
    assert "cannot reschedule a held session" in answer.text and "Er is niets opgeslagen" in answer.text


@pytest.mark.parametrize(("action", "body"), [("hold", {}), ("close", {}), ("cancel", {"reason": "Ziek"})])
def test_each_step_of_the_life_cycle_is_confirmed_on_its_own_page_then_sent(action, body):
    api = staff_api()
    api.on("POST", f"/v1/sessions/s-1/{action}", (200, a_session()))
    client = signed_in(console(api))
    confirm = client.get(f"/sessions/s-1/{action}")
    assert confirm.status_code == 200 and f'action="/sessions/s-1/{action}"' in confirm.text
    assert not api.called("POST", f"/v1/sessions/s-1/{action}")  # drawing the question changes nothing
    key = form_key_of(confirm.text, f"/sessions/s-1/{action}")
    answer = client.post(f"/sessions/s-1/{action}", data={"csrf": csrf_of(confirm.text), "form_key": key, **body})
    assert answer.status_code == 303 and answer.headers["location"] == "/sessions/s-1"
    [call] = api.called("POST", f"/v1/sessions/s-1/{action}")
    assert call.body == body and call.headers["idempotency-key"] == key


def test_holding_a_session_that_has_not_started_shows_the_apis_reason():
    api = staff_api()
    api.on("POST", "/v1/sessions/s-1/hold", api_error(409, "not_started", "the session has not started yet",
                                                      [{"field": "starts_at", "rule": "not_started",
                                                        "message": "the session has not started yet"}]))
    client = signed_in(console(api))
    confirm = client.get("/sessions/s-1/hold").text
    answer = client.post("/sessions/s-1/hold", data={"csrf": csrf_of(confirm)})
    assert answer.status_code == 422 and "the session has not started yet" in answer.text


def test_attendance_is_recorded_from_the_list_of_checkboxes():
    api = staff_api()
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status="held")))
    api.on("PUT", "/v1/sessions/s-1/attendance", (200, {"session_id": "s-1", "revision": 1,
                                                        "member_ids": ["m-1", "m-3"], "attendee_count": 2,
                                                        "perspective_counts": {}, "recorded_at": None}))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    for member in ("m-1", "m-2", "m-3"):  # the registered, the waitlisted, and the network's other members
        assert f'name="member_ids" value="{member}"' in page
    key = form_key_of(page, "/sessions/s-1/attendance")
    client.post("/sessions/s-1/attendance", data={"csrf": csrf_of(page), "form_key": key,
                                                  "member_ids": ["m-1", "m-3"]})
    [call] = api.called("PUT", "/v1/sessions/s-1/attendance")
    assert call.body == {"member_ids": ["m-1", "m-3"]} and call.headers["idempotency-key"] == key


def test_a_statements_conclusion_is_sent_and_a_refusal_shows_in_that_statements_form():
    api = staff_api()
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status="held")))
    api.on("PUT", "/v1/sessions/s-1/statements/2/conclusion", api_error(422, "invalid_input", "invalid input", [
        {"field": "conclusion", "rule": "string_too_short", "message": "fill in the conclusion"}]))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1").text
    assert 'action="/sessions/s-1/statements/1/conclusion"' in page
    answer = client.post("/sessions/s-1/statements/2/conclusion", data={"csrf": csrf_of(page), "conclusion": " "})
    assert api.called("PUT", "/v1/sessions/s-1/statements/2/conclusion")[0].body == {"conclusion": ""}
    assert answer.status_code == 422
    assert 'id="e-conclusion-2">Deze tekst is te kort.' in answer.text
    assert 'id="e-conclusion-1"' not in answer.text


def test_a_conclusion_recorded_is_shown_with_its_statement():
    api = staff_api()
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status="closed", conclusions=[
        {"session_id": "s-1", "statement": 1, "statement_text": "Eenzaamheid is een taak van de buurt",
         "conclusion": "Ja, samen met de gemeente", "concluded_at": "2026-12-10T15:00:00Z"}])))
    page = signed_in(console(api)).get("/sessions/s-1").text
    assert "Ja, samen met de gemeente" in page


@pytest.mark.parametrize(("path", "status"), [
    ("/networks/n-1/sessions", "planned"), ("/networks/n-1/sessions/new", "planned"),
    ("/networks/n-1/sessions/new?format=world_cafe", "planned"), ("/sessions/s-1", "planned"),
    ("/sessions/s-1", "held"), ("/sessions/s-1/cancel", "planned")])
def test_each_sessions_page_has_one_h1_and_no_id_twice(path, status):
    api = staff_api(requires_preparation=True)
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status=status)))
    page = signed_in(console(api)).get(path).text
    assert page.count("<h1") == 1
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_form_drawn_again_with_its_errors_reaches_the_person_through_htmx_too():
    # htmx (hx-boost) drops 4xx answers by default: the 422 form and the refusal pages would never show.
    page = signed_in(console(staff_api())).get("/networks/n-1/sessions").text
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    assert config
    handling = json.loads(config.group(1))["responseHandling"]
    for status in ("422", "409", "403", "404", "503"):  # htmx takes the first rule whose pattern matches
        rule = next(rule for rule in handling if re.fullmatch(rule["code"], status))
        assert rule["swap"] is True, status


def test_each_form_on_the_session_page_has_its_own_key():
    # The API refuses one idempotency key for two different requests (409): one page, one key per form.
    api = staff_api()
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status="held")))
    page = signed_in(console(api)).get("/sessions/s-1").text
    keys = re.findall(r'name="form_key" value="([^"]+)"', page)
    assert len(keys) >= 3 and len(keys) == len(set(keys))
