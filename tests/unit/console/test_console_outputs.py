"""The outputs pages: the list, publishing, one output, retracting, and the preview of how an output and its
authors appear outside the network (consent applied: an author who did not consent is never named there, not
even by id). The preview's rule is pinned to the sessions service's own (``attribution``) case by case."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.common.vocabulary import AUTHOR_ROLES, Perspective
from services.console.pages.outputs import ShownOutside, preview, shown_outside
from services.sessions.domain.outputs import attribution
from services.sessions.domain.read_models import Person, new_pseudonym
from tests.unit.console.fake_api import TOKEN, FakeAdminApi, api_error, console, csrf_of, signed_in
from tests.unit.console.test_console_sessions import MEMBERS, a_session, form_key_of, participant_api, staff_api, text


def an_output(**changes: Any) -> dict[str, Any]:
    output = {
        "id": "o-1", "session_id": "s-1", "network_id": "n-1", "kind": "lesson", "title": "Wat we leerden",
        "body": "Samen met de buurt.", "url": None, "resource_type": None, "themes": ["eenzaamheid"],
        "visibility": "federation", "licence": "CC-BY-4.0",
        "authors": [{"member_id": "m-1", "shown_as": "Anouk de Vries", "named": True},
                    {"member_id": "m-2", "shown_as": "Bram Jansen", "named": True}],
        "published_at": "2026-12-11T09:00:00Z", "statement": None,
    }
    output.update(changes)
    return output


def outputs_api(api: FakeAdminApi | None = None) -> FakeAdminApi:
    api = api or staff_api()
    api.on("GET", "/v1/sessions/s-1", (200, a_session(status="held")))
    api.on("GET", "/v1/sessions/s-1/attendance", (200, {"session_id": "s-1", "revision": 1, "member_ids": ["m-2"],
                                                        "attendee_count": 1, "perspective_counts": {},
                                                        "recorded_at": "2026-12-10T16:00:00Z"}))
    api.on("GET", "/v1/networks/n-1/outputs", (200, {"items": [
        an_output(), {"id": "o-0", "retracted_at": "2026-12-12T09:00:00Z"}], "next_page_token": None}))
    api.on("GET", "/v1/outputs/o-1", (200, an_output()))
    return api


def preview_section(page: str) -> str:
    found = re.search(r'<section class="preview".*?</section>', page, re.S)
    assert found, "no preview on the page"
    return found.group(0)


# --- the rule: the same answer as the sessions service's, case by case ---------------------------------------

CASES = [
    ("consented", "m-1", {"name": "Fatima el Amrani", "perspectives": ["resident"], "named_in_shared_outputs": True}),
    ("not consented", "m-1", {"name": "Fatima el Amrani", "perspectives": ["lived_experience", "resident"],
                              "named_in_shared_outputs": False}),
    ("no perspectives", "m-1", {"name": "Fatima el Amrani", "perspectives": [], "named_in_shared_outputs": False}),
    *[(f"perspective {p.value}", "m-1", {"name": "Fatima el Amrani", "perspectives": [p.value],
                                         "named_in_shared_outputs": False}) for p in Perspective],
]


@pytest.mark.parametrize(("case", "member_id", "record"), CASES, ids=[case[0] for case in CASES])
def test_the_preview_shows_each_author_as_the_sessions_service_does_outside_the_network(case, member_id, record):
    person = Person(member_id, 1, record["name"], tuple(Perspective(p) for p in record["perspectives"]),
                    record["named_in_shared_outputs"])
    theirs = attribution(person, inside_network=False)
    ours = shown_outside(member_id, {"id": member_id, **record})
    assert (ours.shown_as, ours.named, ours.known) == (theirs.shown_as, theirs.named, True)
    # the role code the page says in its language is the one the API gives a linked network's copy
    assert ours.role == (None if theirs.named else AUTHOR_ROLES[theirs.shown_as])


def test_an_erased_author_is_a_former_member_in_the_preview_as_in_the_service():
    pseudonym = new_pseudonym()
    theirs = attribution(Person.unknown(pseudonym), inside_network=False)
    assert shown_outside(pseudonym, None) == ShownOutside(theirs.shown_as, named=False, role="former_member")


def test_an_author_whose_record_the_console_cannot_read_is_unknown_and_never_named():
    shown = preview(["m-9"], MEMBERS)
    assert shown == [ShownOutside("", named=False, known=False)]


# --- the list -------------------------------------------------------------------------------------------------


def test_the_list_shows_the_networks_outputs_and_a_withdrawn_one_as_withdrawn():
    api = outputs_api()
    page = signed_in(console(api)).get("/networks/n-1/outputs")
    assert page.status_code == 200
    assert 'href="/outputs/o-1"' in page.text and "Wat we leerden" in page.text
    assert "Deze opbrengst is ingetrokken." in page.text and 'href="/outputs/o-0"' not in page.text
    assert api.called("GET", "/v1/networks/n-1/outputs")[0].token == TOKEN


def test_the_list_filters_by_kind_through_the_api():
    api = outputs_api()
    signed_in(console(api)).get("/networks/n-1/outputs?kind=lesson")
    assert api.called("GET", "/v1/networks/n-1/outputs")[0].params.get("kind") == "lesson"


# --- publishing -----------------------------------------------------------------------------------------------


def test_the_publish_form_offers_the_attendees_first_then_the_networks_members():
    page = signed_in(console(outputs_api())).get("/sessions/s-1/outputs/new")
    assert page.status_code == 200
    authors = re.findall(r'name="authors" value="([^"]+)"', page.text)
    assert authors == ["m-2", "m-1", "m-3"]
    assert 'name="statement"' in page.text  # a café: the output may come from one of its statements


def test_publishing_sends_the_apis_fields_as_the_member_with_the_forms_key():
    api = outputs_api()
    api.on("POST", "/v1/sessions/s-1/outputs", (201, an_output(id="o-7")))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1/outputs/new").text
    key = form_key_of(page, "/sessions/s-1/outputs")
    answer = client.post("/sessions/s-1/outputs", data={
        "csrf": csrf_of(page), "form_key": key, "kind": "resource", "title": "Kennisclip", "body": "",
        "url": "https://example.org/clip", "resource_type": "knowledge_clip", "authors": ["m-2", "m-1"],
        "themes": "eenzaamheid, wijkteams ,", "visibility": "public", "licence": "CC0-1.0", "statement": "2"})
    assert answer.status_code == 303 and answer.headers["location"] == "/outputs/o-7"
    [call] = api.called("POST", "/v1/sessions/s-1/outputs")
    assert call.token == TOKEN and call.headers["idempotency-key"] == key
    assert call.body == {"kind": "resource", "title": "Kennisclip", "body": "", "url": "https://example.org/clip",
                         "resource_type": "knowledge_clip", "authors": ["m-2", "m-1"],
                         "themes": ["eenzaamheid", "wijkteams"], "visibility": "public", "licence": "CC0-1.0",
                         "statement": 2}


def test_a_refused_output_is_drawn_again_with_each_error_next_to_its_field_and_nothing_saved():
    api = outputs_api()
    api.on("POST", "/v1/sessions/s-1/outputs", api_error(422, "invalid_input", "invalid input", [
        {"field": "url", "rule": "required_for_resource", "message": "a resource needs a link"},
        {"field": "authors.0", "rule": "network_member", "message": "m-3 is not a member of the network"}]))
    client = signed_in(console(api))
    page = client.get("/sessions/s-1/outputs/new").text
    answer = client.post("/sessions/s-1/outputs", data={
        "csrf": csrf_of(page), "kind": "resource", "title": "Clip", "authors": "m-3", "visibility": "network"})
    assert answer.status_code == 422
    assert re.search(r'id="e-url">a resource needs a link<', answer.text)
    authors = re.search(r'<fieldset class="group invalid" id="f-authors">.*?</fieldset>', answer.text, re.S)
    assert authors and "m-3 is not a member of the network" in authors.group(0)
    assert re.search(r'name="authors" value="m-3" checked', answer.text)  # what was chosen stays chosen
    assert 'value="Clip"' in answer.text
    assert len(api.called("POST", "/v1/sessions/s-1/outputs")) == 1


def test_the_preview_names_only_authors_who_consented_and_shows_no_member_id_and_saves_nothing():
    api = outputs_api()
    client = signed_in(console(api))
    page = client.get("/sessions/s-1/outputs/new").text
    answer = client.post("/sessions/s-1/outputs/preview", data={
        "csrf": csrf_of(page), "kind": "lesson", "title": "Wat we leerden", "body": "Samen.",
        "authors": ["m-1", "m-2", "m-3"], "visibility": "linked", "licence": "CC-BY-4.0"})
    assert answer.status_code == 200
    shown = preview_section(answer.text)
    # Anouk consented; Bram did not (lived experience); Chantal did not and has no perspective.
    # said in the page's language, as a linked network's feed says it (not the service's English words)
    assert re.findall(r"<li>(.*?) <span", shown) == ["Anouk de Vries", "een ervaringsdeskundige", "een deelnemer"]
    assert "Bram" not in shown and "Chantal" not in shown
    assert not re.search(r"\bm-\d\b", shown)  # no member id, not even of those named
    assert not api.called("POST", "/v1/sessions/s-1/outputs")
    assert 'value="Wat we leerden"' in answer.text  # the form keeps what was typed


def test_the_preview_of_an_output_kept_in_the_network_says_it_is_not_shared():
    client = signed_in(console(outputs_api()))
    page = client.get("/sessions/s-1/outputs/new").text
    answer = client.post("/sessions/s-1/outputs/preview", data={
        "csrf": csrf_of(page), "kind": "lesson", "title": "Intern", "authors": "m-2", "visibility": "network"})
    shown = preview_section(answer.text)
    assert "Niet gedeeld buiten dit netwerk." in shown and "Bram" not in shown


def test_a_participant_gets_no_publish_form_and_the_apis_refusal_if_they_post_anyway():
    api = outputs_api(participant_api())
    api.on("POST", "/v1/sessions/s-1/outputs",
           api_error(403, "permission_denied", "only the network's coordinators and facilitators do this"))
    client = signed_in(console(api))
    assert client.get("/sessions/s-1/outputs/new").status_code == 403
    page = client.get("/networks/n-1/outputs").text
    answer = client.post("/sessions/s-1/outputs", data={"csrf": csrf_of(page), "kind": "lesson", "title": "x",
                                                        "authors": "m-1"})
    assert answer.status_code == 403 and "only the network's coordinators" in text(answer.text)


# --- one output -----------------------------------------------------------------------------------------------


def test_staff_see_the_output_with_its_preview_from_outside_the_network():
    page = signed_in(console(outputs_api())).get("/outputs/o-1")
    assert page.status_code == 200
    assert "Wat we leerden" in page.text and "Samen met de buurt." in page.text
    shown = preview_section(page.text)
    assert "Anouk de Vries" in shown and "Bram Jansen" not in shown
    assert "een ervaringsdeskundige" in shown and "m-1" not in shown and "m-2" not in shown
    assert 'href="/outputs/o-1/retract"' in page.text
    assert 'href="/outputs/o-1/deliveries"' in page.text  # where it went, beyond the network


def test_a_facilitator_is_not_offered_the_delivery_log_the_api_keeps_for_coordinators():
    # found by tests/browser: the link led a facilitator to the API's refusal
    api = outputs_api()
    api.on("GET", "/v1/whoami", (200, {"operator": False, "member_id": "m-1", "administers": [],
                                       "facilitates": ["n-1"], "member_of": ["n-1"]}))
    page = signed_in(console(api)).get("/outputs/o-1")
    assert page.status_code == 200
    assert 'href="/outputs/o-1/retract"' in page.text, "a facilitator is staff: they may retract"
    assert 'href="/outputs/o-1/deliveries"' not in page.text


def test_an_output_kept_in_the_network_says_not_shared_outside_it():
    api = outputs_api()
    api.on("GET", "/v1/outputs/o-1", (200, an_output(visibility="network")))
    page = signed_in(console(api)).get("/outputs/o-1")
    assert "Niet gedeeld buiten dit netwerk." in preview_section(page.text)
    assert not api.called("GET", "/v1/members")  # nothing to preview: no member records read


def test_a_participant_sees_the_output_without_the_retract_action_and_is_refused_by_the_api_if_they_post():
    api = outputs_api(participant_api())
    api.on("POST", "/v1/outputs/o-1/retract",
           api_error(403, "permission_denied", "only the network's coordinators and facilitators do this"))
    client = signed_in(console(api))
    page = client.get("/outputs/o-1")
    assert page.status_code == 200 and "/retract" not in page.text
    assert client.get("/outputs/o-1/retract").status_code == 403
    assert "Bram Jansen" in page.text  # inside the network every author is named (the API's answer)
    answer = client.post("/outputs/o-1/retract", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 403


def test_retracting_is_confirmed_then_sent_with_the_reason():
    api = outputs_api()
    api.on("POST", "/v1/outputs/o-1/retract", (200, {"id": "o-1", "retracted_at": "2026-12-12T09:00:00Z"}))
    client = signed_in(console(api))
    confirm = client.get("/outputs/o-1/retract")
    assert confirm.status_code == 200 and not api.called("POST", "/v1/outputs/o-1/retract")
    key = form_key_of(confirm.text, "/outputs/o-1/retract")
    answer = client.post("/outputs/o-1/retract", data={"csrf": csrf_of(confirm.text), "form_key": key,
                                                       "reason": "Fout in de tekst"})
    assert answer.status_code == 303
    [call] = api.called("POST", "/v1/outputs/o-1/retract")
    assert call.body == {"reason": "Fout in de tekst"} and call.headers["idempotency-key"] == key


def test_a_withdrawn_output_shows_only_that_it_was_withdrawn():
    api = outputs_api()
    api.on("GET", "/v1/outputs/o-1", (200, {"id": "o-1", "retracted_at": "2026-12-12T09:00:00Z"}))
    page = signed_in(console(api)).get("/outputs/o-1")
    assert page.status_code == 200 and "ingetrokken op 12-12-2026 10:00" in page.text


@pytest.mark.parametrize("path", ["/networks/n-1/outputs", "/sessions/s-1/outputs/new", "/outputs/o-1",
                                  "/outputs/o-1/retract"])
def test_each_outputs_page_has_one_h1_and_no_id_twice(path):
    page = signed_in(console(outputs_api())).get(path).text
    assert page.count("<h1") == 1
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_an_author_shown_by_role_is_said_in_dutch_from_the_apis_code_on_the_output_and_the_list():
    by_role = [{"member_id": None, "shown_as": "a participant with lived experience", "named": False,
                "role": "lived_experience"}]
    api = outputs_api()
    api.on("GET", "/v1/outputs/o-1", (200, an_output(authors=by_role)))
    api.on("GET", "/v1/networks/n-1/outputs", (200, {"items": [an_output(authors=by_role)], "next_page_token": None}))
    client = signed_in(console(api))
    for path in ("/outputs/o-1", "/networks/n-1/outputs"):
        page = client.get(path)
        assert "een ervaringsdeskundige" in page.text and "lived experience" not in page.text, path
