"""The person's own pages: upcoming sessions on the start page, their record and consent, their data export,
their reflections, and "Wie weet wat" (finding experts in their networks, asking them, their questions)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.unit.console.fake_api import (
    TOKEN,
    Answer,
    FakeAdminApi,
    a_member_api,
    api_error,
    console,
    csrf_of,
    signed_in,
)
from tests.unit.console.test_console_sessions import a_session, text

ME = "m-1"


def recording(answer: Answer, seen: list[dict[str, str]]) -> Any:
    """An answer that also keeps the query parameters of each request (the fake records paths, not queries)."""

    def handler(request: httpx.Request) -> Answer:
        seen.append(dict(request.url.params))
        return answer

    return handler


def form_key_of(html: str, action: str) -> str:
    form = html.split(f'action="{action}"', 1)[1]
    found = re.search(r'name="form_key" value="([^"]+)"', form)
    assert found, f"no form_key in the form posting to {action}"
    return found.group(1)


def a_member(**consent: bool) -> dict[str, Any]:
    return {"id": ME, "name": "Anouk de Vries", "email": "anouk.devries@movisie.example", "organisation": "Movisie",
            "perspectives": ["practitioner", "lived_experience"], "expertise": ["schulden"],
            "findable_by_expertise": consent.get("findable", False),
            "named_in_shared_outputs": consent.get("named", True),
            "memberships": [{"network_id": "n-1", "role": "participant", "joined_at": "2026-01-01T00:00:00Z"}],
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "revision": 3}


def api_for_me(**consent: bool) -> FakeAdminApi:
    api = a_member_api(ME, member_of=("n-1", "n-2"))
    api.on("GET", "/v1/networks/n-1", (200, {"id": "n-1", "name": "BeterOud", "level": "national"}))
    api.on("GET", "/v1/networks/n-2", (200, {"id": "n-2", "name": "Wijkkracht Utrecht", "level": "local"}))
    api.on("GET", f"/v1/members/{ME}", (200, a_member(**consent)))
    return api


def session_item(session_id: str, title: str, starts_at: str, network_id: str = "n-1") -> dict[str, Any]:
    return {"id": session_id, "network_id": network_id, "title": title, "starts_at": starts_at, "status": "planned"}


# --- the start page --------------------------------------------------------------------------------------------


def test_the_start_page_lists_upcoming_planned_sessions_of_every_network_soonest_first_with_a_link():
    api = api_for_me()
    asked: list[dict[str, str]] = []
    api.on("GET", "/v1/networks/n-1/sessions", recording(
        (200, {"items": [session_item("s-late", "Intervisie schulden", "2027-03-02T13:00:00Z")]}), asked))
    api.on("GET", "/v1/networks/n-2/sessions", recording(
        (200, {"items": [session_item("s-soon", "Buurtcafé", "2027-01-10T18:30:00Z", "n-2")]}), asked))
    page = signed_in(console(api)).get("/")
    assert page.status_code == 200
    soon, late = page.text.index('href="/sessions/s-soon"'), page.text.index('href="/sessions/s-late"')
    assert soon < late
    assert "10-01-2027 19:30" in page.text  # 18:30 UTC is 19:30 in Amsterdam in winter
    assert len(asked) == 2 and all(params["status"] == "planned" and params["starts_from"] for params in asked)


def upcoming_of_mine() -> list[dict[str, Any]]:
    """Whole sessions as the API lists them to m-1, each with m-1's own registration (or none)."""
    return [a_session(id=f"s-{mine}", title=f"Bijeenkomst {mine}", starts_at=f"2027-01-1{day}T18:30:00Z",
                      ends_at=f"2027-01-1{day}T20:30:00Z", my_registration=None if mine == "none" else mine)
            for day, mine in enumerate(("registered", "waitlisted", "cancelled", "none"))]


def test_the_start_page_marks_the_sessions_the_person_is_registered_or_waitlisted_for_without_asking_more():
    api = api_for_me()
    api.on("GET", "/v1/networks/n-1/sessions", (200, {"items": upcoming_of_mine(), "next_page_token": None}))
    page = signed_in(console(api)).get("/")
    items = {m.group(1): text(m.group(0)) for m in re.finditer(r'<li><a href="/sessions/(s-\w+)">.*?</li>', page.text)}
    assert "u bent aangemeld" in items["s-registered"] and "wachtlijst" in items["s-waitlisted"]
    assert "aangemeld" not in items["s-cancelled"] + items["s-none"]
    assert "wachtlijst" not in items["s-cancelled"] + items["s-none"]
    assert not [c for c in api.calls if "/registrations" in c.path]


# --- my record and consent -------------------------------------------------------------------------------------


def test_my_record_shows_what_the_api_holds_and_the_consent_boxes_as_they_are():
    page = signed_in(console(api_for_me(findable=False, named=True))).get("/me")
    assert page.status_code == 200
    assert "anouk.devries@movisie.example" in page.text and "ervaringsdeskundige" in page.text
    assert "BeterOud" in page.text
    assert re.search(r'id="f-findable_by_expertise"[^>]*value="on"(?! checked)', page.text)
    assert re.search(r'id="f-named_in_shared_outputs"[^>]*value="on" checked', page.text)


def test_changing_consent_patches_both_flags_as_the_person_with_the_forms_key():
    api = api_for_me()
    api.on("PATCH", f"/v1/members/{ME}", (200, a_member(findable=True, named=False)))
    client = signed_in(console(api))
    page = client.get("/me")
    answer = client.post("/me/consent", data={"csrf": csrf_of(page.text), "form_key": form_key_of(page.text,
                                                                                                   "/me/consent"),
                                              "findable_by_expertise": "on"})
    assert answer.status_code == 303 and answer.headers["location"] == "/me"
    (patch,) = api.called("PATCH", f"/v1/members/{ME}")
    assert patch.body == {"findable_by_expertise": True, "named_in_shared_outputs": False}
    assert patch.token == TOKEN
    assert patch.headers["idempotency-key"] == form_key_of(page.text, "/me/consent")
    assert "Uw toestemming is opgeslagen." in client.get("/me").text


def test_a_refused_consent_change_is_drawn_again_with_the_error_next_to_its_box():
    api = api_for_me()
    api.on("PATCH", f"/v1/members/{ME}", api_error(422, "invalid", "invalid input", [
        {"field": "findable_by_expertise", "rule": "bool", "message": "must be true or false"}]))
    client = signed_in(console(api))
    page = client.get("/me")
    answer = client.post("/me/consent", data={"csrf": csrf_of(page.text), "consent_form": "1",
                                              "findable_by_expertise": "on"})
    assert answer.status_code == 422
    assert re.search(r'<p class="error" id="e-findable_by_expertise">must be true or false</p>', answer.text)
    assert "Er is niets opgeslagen." in answer.text
    # as sent, not as stored: the person had ticked one box and unticked the other
    assert re.search(r'id="f-findable_by_expertise"[^>]*value="on" checked', answer.text)
    assert re.search(r'id="f-named_in_shared_outputs"[^>]*value="on"(?! checked)', answer.text)


# --- my data export --------------------------------------------------------------------------------------------


def test_the_export_is_downloaded_as_a_json_attachment_that_is_never_cached():
    api = api_for_me()
    export = {"members": {"member": {"id": ME}}, "sessions": {"member_id": ME, "reflections": []}}
    api.on("GET", f"/v1/members/{ME}/export", (200, export))
    client = signed_in(console(api))
    assert 'href="/me/export.json"' in client.get("/me/export").text
    answer = client.get("/me/export.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["cache-control"] == "no-store"
    assert json.loads(answer.text) == export
    assert api.called("GET", f"/v1/members/{ME}/export")[0].token == TOKEN


def test_the_export_of_someone_else_is_the_apis_refusal_not_a_file():
    api = api_for_me()
    api.on("GET", f"/v1/members/{ME}/export", api_error(403, "permission_denied", "only your own data"))
    answer = signed_in(console(api)).get("/me/export.json")
    assert answer.status_code == 403 and "Geen toegang" in answer.text


# --- my reflections --------------------------------------------------------------------------------------------


def network_sessions() -> dict[str, Any]:
    return {"items": [a_session(id="s-held", title="Leercafé armoede", status="held",
                                starts_at="2026-11-02T13:00:00Z"),
                      a_session(id="s-planned", title="Volgende intervisie", status="planned"),
                      a_session(id="s-closed", title="Werkplaats wonen", status="closed",
                                starts_at="2026-10-01T09:00:00Z")],
            "next_page_token": None}


def my_reflections(next_page_token: str | None = None) -> dict[str, Any]:
    """The person's reflections as ``GET /v1/reflections`` answers: newest first (checked against ReflectionPage)."""
    return {"items": [
        {"id": "r-2", "session_id": "s-held", "network_id": "n-1", "member_id": ME, "kind": "perspective",
         "text": "Ik snap de gemeente beter.", "recorded_at": "2026-11-03T10:00:00Z"},
        {"id": "r-1", "session_id": "s-old", "network_id": "n-1", "member_id": ME, "kind": "behaviour",
         "text": "Ik bel nu eerst de wijkagent.", "recorded_at": "2025-10-01T10:00:00Z"}],
        "next_page_token": next_page_token}


def reflections_api(next_page_token: str | None = None) -> FakeAdminApi:
    api = api_for_me()
    api.on("GET", "/v1/networks/n-1/sessions", (200, network_sessions()))
    api.on("GET", "/v1/reflections", (200, my_reflections(next_page_token)))
    api.on("GET", "/v1/sessions/s-old", (200, a_session(id="s-old", title="Vorig jaar", status="closed",
                                                        starts_at="2025-09-30T13:00:00Z")))
    return api


def test_my_reflections_are_listed_as_the_api_gives_them_with_the_four_kinds_explained_and_held_sessions_to_choose():
    api = reflections_api()
    page = signed_in(console(api)).get("/me/reflections")
    assert page.status_code == 200
    assert page.text.index("Ik snap de gemeente beter.") < page.text.index("Ik bel nu eerst de wijkagent.")
    assert "Leercafé armoede</a>" in page.text and "Vorig jaar</a>" in page.text  # an older session, asked for
    for kind in ("Zelfbeeld", "Gedrag", "Kijk op anderen", "Kijk op mijn werk"):
        assert kind in page.text
    assert "U kijkt anders naar uzelf." in page.text
    options = re.findall(r'<option value="(s-[a-z]+)"', page.text)
    assert options == ["s-held", "s-closed"]  # newest first, not the planned one


def test_reading_my_reflections_asks_for_my_own_list_and_never_the_export_which_the_audit_log_records():
    api = reflections_api()
    signed_in(console(api)).get("/me/reflections")
    assert api.called("GET", f"/v1/members/{ME}/export") == []
    (asked,) = api.called("GET", "/v1/reflections")
    assert (asked.token, asked.params) == (TOKEN, {"page_size": "50"})
    (sessions,) = api.called("GET", "/v1/networks/n-1/sessions")
    assert set(sessions.params) == {"page_size", "starts_from", "starts_before"}


def test_older_reflections_are_one_link_away_with_the_apis_page_token():
    api = reflections_api(next_page_token="b2xkZXI=")
    client = signed_in(console(api))
    page = client.get("/me/reflections")
    assert 'href="/me/reflections?page_token=b2xkZXI%3D"' in page.text
    assert client.get("/me/reflections?page_token=b2xkZXI=").status_code == 200
    assert api.called("GET", "/v1/reflections")[-1].params == {"page_size": "50", "page_token": "b2xkZXI="}


def test_writing_a_reflection_posts_it_as_the_person_with_the_forms_key():
    api = reflections_api()
    api.on("POST", "/v1/reflections", (201, {"id": "r-3"}))
    client = signed_in(console(api))
    page = client.get("/me/reflections")
    key = form_key_of(page.text, "/me/reflections")
    answer = client.post("/me/reflections", data={"csrf": csrf_of(page.text), "form_key": key,
                                                  "session_id": "s-held", "kind": "self_image",
                                                  "text": "Ik durf meer te vragen."})
    assert answer.status_code == 303 and answer.headers["location"] == "/me/reflections"
    (posted,) = api.called("POST", "/v1/reflections")
    assert posted.body == {"session_id": "s-held", "kind": "self_image", "text": "Ik durf meer te vragen."}
    assert posted.token == TOKEN and posted.headers["idempotency-key"] == key


def test_a_refused_reflection_is_drawn_again_with_the_error_next_to_its_field_and_what_was_typed():
    api = reflections_api()
    api.on("POST", "/v1/reflections", api_error(422, "invalid", "invalid input", [
        {"field": "text", "rule": "string_too_long", "message": "at most 5000 characters"}]))
    client = signed_in(console(api))
    page = client.get("/me/reflections")
    answer = client.post("/me/reflections", data={"csrf": csrf_of(page.text), "session_id": "s-closed",
                                                  "kind": "behaviour", "text": "Heel lang verhaal"})
    assert answer.status_code == 422
    assert '<p class="error" id="e-text">Deze tekst is te lang.</p>' in answer.text  # the rule, in Dutch
    assert "Heel lang verhaal</textarea>" in answer.text
    assert re.search(r'value="behaviour" checked', answer.text)
    assert re.search(r'<option value="s-closed" selected>', answer.text)


def test_a_reflection_on_a_session_not_yet_held_shows_the_apis_conflict_on_the_form():
    api = reflections_api()
    api.on("POST", "/v1/reflections", api_error(409, "conflict", "the session is planned: reflect after it is held"))
    client = signed_in(console(api))
    page = client.get("/me/reflections")
    answer = client.post("/me/reflections", data={"csrf": csrf_of(page.text), "session_id": "s-held",
                                                  "kind": "behaviour", "text": "x"})
    assert answer.status_code == 409 and "reflect after it is held" in answer.text and "<form" in answer.text


def test_a_reflection_on_another_networks_session_is_the_apis_refusal():
    api = reflections_api()
    api.on("POST", "/v1/reflections", api_error(403, "permission_denied", "you reflect on sessions of your own "
                                                                          "networks only"))
    client = signed_in(console(api))
    page = client.get("/me/reflections")
    answer = client.post("/me/reflections", data={"csrf": csrf_of(page.text), "session_id": "s-other",
                                                  "kind": "behaviour", "text": "x"})
    assert answer.status_code == 403 and "Geen toegang" in answer.text


# --- who knows what --------------------------------------------------------------------------------------------


EXPERT = {"member_id": "m-7", "name": "Bram Jansen", "organisation": "Gemeente Utrecht",
          "expertise": ["schulden", "armoede"], "perspectives": ["municipality_policy"], "network_ids": ["n-2"]}


def experts_api() -> tuple[FakeAdminApi, list[dict[str, str]]]:
    api = api_for_me()
    searched: list[dict[str, str]] = []
    api.on("GET", "/v1/expertise", recording((200, {"items": [EXPERT], "next_page_token": None}), searched))
    api.on("GET", "/v1/questions", lambda request: (200, {"items": [
        {"id": "q-1", "role": "asked", "network_id": "n-2", "tag": "schulden", "question": "Hoe werkt de "
         "schuldhulp hier?", "status": "answered", "asked_at": "2026-11-01T10:00:00Z", "closed_at": None,
         "answer": "Bel het loket.", "decline_reason": None, "revision": 2,
         "expert": {"member_id": "m-7", "name": "Bram Jansen", "organisation": None}},
    ] if request.url.params["role"] == "asked" else [
        {"id": "q-2", "role": "received", "network_id": "n-1", "tag": None, "question": "Weet u iets van "
         "wonen?", "status": "open", "asked_at": "2026-11-02T10:00:00Z", "closed_at": None, "answer": None,
         "decline_reason": None, "revision": 1, "asker": {"name": None, "perspectives": ["resident"]}},
    ]}))
    return api, searched


def test_finding_experts_asks_the_api_with_the_topic_and_network_and_shows_them_without_an_email():
    api, searched = experts_api()
    page = signed_in(console(api)).get("/experts?tag=schulden&network_id=n-2")
    assert page.status_code == 200
    assert searched[0] == {"tag": "schulden", "network_id": "n-2"}
    assert "Bram Jansen" in page.text and "Gemeente Utrecht" in page.text and "@" not in page.text.split("<main")[1]
    assert 'href="/experts/m-7/ask?network_id=n-2&amp;tag=schulden"' in page.text


def test_my_questions_are_listed_and_an_asker_who_did_not_share_their_name_stays_unnamed():
    api, _ = experts_api()
    page = signed_in(console(api)).get("/experts")
    assert "Hoe werkt de schuldhulp hier?" in page.text and "aan Bram Jansen" in page.text
    assert "van iemand die zijn naam niet deelde" in page.text


def test_a_bad_topic_is_drawn_with_the_apis_error_next_to_the_topic_field():
    api, _ = experts_api()
    api.on("GET", "/v1/expertise", api_error(422, "invalid", "invalid input", [
        {"field": "tag", "rule": "string_pattern_mismatch", "message": "letters, digits, spaces and dashes"}]))
    page = signed_in(console(api)).get("/experts?tag=%24%24")
    assert page.status_code == 422
    assert '<p class="error" id="e-tag">letters, digits, spaces and dashes</p>' in page.text


def test_asking_an_expert_posts_the_question_as_the_person_with_the_forms_key():
    api, _ = experts_api()
    api.on("POST", "/v1/questions", (201, {"id": "q-3"}))
    client = signed_in(console(api))
    page = client.get("/experts/m-7/ask?network_id=n-2&tag=schulden")
    assert page.status_code == 200 and "Bram Jansen" in page.text
    key = form_key_of(page.text, "/experts/m-7/ask")
    answer = client.post("/experts/m-7/ask", data={"csrf": csrf_of(page.text), "form_key": key, "network_id": "n-2",
                                                   "tag": "schulden", "question": "Mag ik u bellen?"})
    assert answer.status_code == 303
    (posted,) = api.called("POST", "/v1/questions")
    assert posted.body == {"expert_id": "m-7", "network_id": "n-2", "question": "Mag ik u bellen?",
                           "share_name": False, "tag": "schulden"}
    assert posted.token == TOKEN and posted.headers["idempotency-key"] == key


def test_a_refused_question_is_drawn_again_with_the_error_next_to_the_question():
    api, _ = experts_api()
    api.on("POST", "/v1/questions", api_error(422, "invalid", "invalid input", [
        {"field": "question", "rule": "string_too_short", "message": "write a question"}]))
    client = signed_in(console(api))
    page = client.get("/experts/m-7/ask")
    answer = client.post("/experts/m-7/ask", data={"csrf": csrf_of(page.text), "network_id": "n-2",
                                                   "question": "", "share_name": "on"})
    assert answer.status_code == 422
    assert '<p class="error" id="e-question">Deze tekst is te kort.</p>' in answer.text
    assert 'name="share_name" value="on" checked' in answer.text


def test_someone_the_api_does_not_show_as_an_expert_cannot_be_asked_here():
    api, _ = experts_api()
    answer = signed_in(console(api)).get("/experts/m-99/ask")
    assert answer.status_code == 404


def test_answering_a_received_question_sends_the_answer_and_only_the_contact_chosen():
    api, _ = experts_api()
    api.on("GET", "/v1/questions/q-2", (200, {
        "id": "q-2", "role": "received", "network_id": "n-1", "tag": None, "question": "Weet u iets van wonen?",
        "status": "open", "asked_at": "2026-11-02T10:00:00Z", "closed_at": None, "answer": None,
        "decline_reason": None, "revision": 1, "asker": {"name": None, "perspectives": ["resident"]}}))
    api.on("POST", "/v1/questions/q-2/answer", (200, {"id": "q-2"}))
    client = signed_in(console(api))
    page = client.get("/experts/questions/q-2")
    assert "iemand die zijn naam niet deelde" in page.text and "bewoner" in page.text
    answer = client.post("/experts/questions/q-2/answer", data={"csrf": csrf_of(page.text), "answer": "Ja, bel me.",
                                                                 "contact_note": "06-12345678"})
    assert answer.status_code == 303
    (posted,) = api.called("POST", "/v1/questions/q-2/answer")
    assert posted.body == {"answer": "Ja, bel me.", "share_email": False, "contact_note": "06-12345678"}


def test_everyone_gets_the_who_knows_what_and_my_details_entries_but_not_the_operators():
    page = signed_in(console(api_for_me())).get("/me")
    assert 'href="/experts"' in page.text and 'href="/me" aria-current="page"' in page.text
    assert "/operator/" not in page.text


def test_htmx_is_told_to_show_error_answers_so_a_refused_form_appears_with_its_errors():
    # htmx 2 by default does not swap a 4xx/5xx answer into the page: a boosted form answered 422 would show nothing.
    page = signed_in(console(api_for_me())).get("/me")
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page.text).group(1))
    assert {"code": "[45]..", "swap": True, "error": True} in config["responseHandling"]
    assert config["allowEval"] is False
