"""A network's pages: overview, editing and archiving, members, health, learning report, links, feed, deliveries.

The admin API is the fake (tests/unit/console/fake_api.py): these tests check what the console draws from the
API's answers, what it sends (path, body, the person's token, the form's key), and that a refusal is drawn next
to its field with nothing sent twice.
"""

from __future__ import annotations

import html as html_module
import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.unit.console.fake_api import TOKEN, FakeAdminApi, a_member_api, api_error, console, csrf_of, signed_in

NET = "werkplaats-utrecht"


def a_network(**changes: Any) -> dict[str, Any]:
    network = {
        "id": NET, "name": "Werkplaats Utrecht", "level": "regional", "kind": "werkplaats",
        "theme": "Eenzaamheid onder ouderen", "urgency": "Steeds meer ouderen wonen alleen", "host_organisation":
        "Movisie", "parent_id": "beter-oud", "region": "Utrecht", "cadence_weeks": 6, "start_date": "2026-01-15",
        "requires_preparation": True, "unprepared_policy": "flag", "status": "active",
        "coordinators": [{"member_id": "m-1", "role": "coordinator", "perspectives": ["practitioner"]}],
        "facilitators": [{"member_id": "m-2", "role": "facilitator", "perspectives": ["lived_experience"]}],
        "member_count": 12, "created_at": "2026-01-01T10:00:00Z", "updated_at": "2026-01-02T10:00:00Z",
        "revision": 3,
    }
    return {**network, **changes}


def a_member(member_id: str, name: str, role: str = "participant", network_id: str = NET,
             organisation: str | None = None) -> dict[str, Any]:
    return {"id": member_id, "name": name, "email": f"{member_id}@example.org", "organisation": organisation,
            "perspectives": ["resident"], "expertise": [], "findable_by_expertise": False,
            "named_in_shared_outputs": False,
            "memberships": [{"network_id": network_id, "role": role, "joined_at": "2026-01-01T00:00:00Z"}],
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "revision": 1}


def api_for(role: str = "coordinator", **network: Any) -> FakeAdminApi:
    """An API where the signed-in member (m-1) has ``role`` in the network."""
    roles = {"coordinator": {"administers": (NET,)}, "facilitator": {"facilitates": (NET,)},
             "participant": {"member_of": (NET,)}}[role]
    api = a_member_api("m-1", "Anouk de Vries", **roles)
    api.on("GET", f"/v1/networks/{NET}", (200, a_network(**network)))
    api.on("GET", "/v1/networks/beter-oud", (200, a_network(id="beter-oud", name="BeterOud", level="national",
                                                            parent_id=None)))
    api.on("GET", f"/v1/networks/{NET}/tree", (200, {
        "id": NET, "name": "Werkplaats Utrecht", "level": "regional", "kind": "werkplaats", "status": "active",
        "children": [{"id": "wijk-noord", "name": "Wijkkring Noord", "level": "neighbourhood", "kind":
                      "learning_circle", "status": "active", "children": []}]}))
    api.on("GET", "/v1/networks", (200, {"items": [
        a_network(), a_network(id="beter-oud", name="BeterOud", level="national", parent_id=None),
        a_network(id="zorg-zwolle", name="Zorgnetwerk Zwolle", parent_id=None)], "next_page_token": None}))
    return api


def client_for(api: FakeAdminApi) -> TestClient:
    return signed_in(console(api))


def form_key_of(html: str, action: str) -> str:
    """The form_key of the form posting to ``action``."""
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    found = re.search(r'name="form_key" value="([^"]+)"', form)
    assert found, f"no form_key in the form to {action}"
    return found.group(1)


def post(client: TestClient, page_url: str, action: str, data: dict[str, Any]) -> httpx.Response:
    page = client.get(page_url)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf": csrf_of(page.text), "form_key": form_key_of(page.text, action),
                                     **data})


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="e-{re.escape(field)}">([^<]*)</p>', html)
    assert found, f"no error drawn next to {field}"
    return html_module.unescape(found.group(1))


# --- overview ----------------------------------------------------------------------------------------------------


def test_the_overview_shows_the_networks_record_its_staff_by_name_and_its_place_in_the_tree():
    api = api_for()
    api.on("GET", "/v1/members", (200, {"items": [a_member("m-1", "Anouk de Vries", "coordinator"),
                                                  a_member("m-2", "Bram Jansen", "facilitator")]}))
    page = client_for(api).get(f"/networks/{NET}")
    assert page.status_code == 200
    for shown in ("Eenzaamheid onder ouderen", "Steeds meer ouderen wonen alleen", "Movisie", "Utrecht",
                  "elke 6 weken", "wel toegelaten, met een markering", "actief", "12", "Anouk de Vries",
                  "Bram Jansen"):
        assert shown in page.text, shown
    assert '<a href="/networks/beter-oud">BeterOud</a>' in page.text
    assert '<a href="/networks/wijk-noord">Wijkkring Noord</a>' in page.text
    assert api.called("GET", "/v1/members")[0].params == {"network_id": NET, "page_size": "200"}
    assert f'href="/networks/{NET}/edit"' in page.text and f'href="/networks/{NET}/archive"' in page.text


def test_a_participant_sees_staff_by_role_and_perspective_and_no_management():
    api = api_for("participant")
    page = client_for(api).get(f"/networks/{NET}")
    assert page.status_code == 200
    assert "coördinator (professional)" in page.text and "begeleider (ervaringsdeskundige)" in page.text
    assert not api.called("GET", "/v1/members")  # a participant does not look members up
    assert "/edit" not in page.text and "/archive" not in page.text


def test_editing_sends_only_the_changed_fields_with_the_forms_key_and_the_persons_token():
    api = api_for()
    api.on("PATCH", f"/v1/networks/{NET}", (200, a_network(region="Amersfoort")))
    client = client_for(api)
    page = client.get(f"/networks/{NET}/edit")
    assert page.status_code == 200 and 'value="Movisie"' in page.text
    key = form_key_of(page.text, f"/networks/{NET}/edit")
    fields = {"name": "Werkplaats Utrecht", "level": "regional", "kind": "werkplaats",
              "theme": "Eenzaamheid onder ouderen", "urgency": "Steeds meer ouderen wonen alleen",
              "host_organisation": "", "region": "Amersfoort", "cadence_weeks": "6", "start_date": "2026-01-15",
              "requires_preparation": "true", "unprepared_policy": "flag", "revision": "3"}
    answer = client.post(f"/networks/{NET}/edit", data={"csrf": csrf_of(page.text), "form_key": key, **fields})
    assert answer.status_code == 303 and answer.headers["location"] == f"/networks/{NET}"
    patch = api.called("PATCH", f"/v1/networks/{NET}")[0]
    assert patch.body == {"host_organisation": None, "region": "Amersfoort"}  # a blank optional field clears it
    assert patch.token == TOKEN and patch.headers["idempotency-key"] == key


def test_an_edit_refused_by_the_api_is_drawn_again_with_the_error_next_to_its_field():
    api = api_for()
    api.on("PATCH", f"/v1/networks/{NET}", api_error(422, "invalid_argument", "invalid request", [
        {"field": "theme", "rule": "string_too_short", "message": "String should have at least 3 characters"}]))
    answer = post(client_for(api), f"/networks/{NET}/edit", f"/networks/{NET}/edit",
                  {"theme": "ab", "revision": "3", "name": "Werkplaats Utrecht"})
    assert answer.status_code == 422
    assert error_next_to(answer.text, "theme") == "Deze tekst is te kort."  # the rule, in Dutch
    assert ">ab</textarea>" in answer.text  # what was typed is kept
    assert len(api.called("PATCH", f"/v1/networks/{NET}")) == 1


def test_an_edit_over_a_change_made_meanwhile_is_refused_and_sends_nothing():
    api = api_for()
    client = client_for(api)
    page = client.get(f"/networks/{NET}/edit")
    api.on("GET", f"/v1/networks/{NET}", (200, a_network(revision=4, region="Zeist")))
    answer = client.post(f"/networks/{NET}/edit", data={
        "csrf": csrf_of(page.text), "form_key": form_key_of(page.text, f"/networks/{NET}/edit"),
        "region": "Amersfoort", "revision": "3"})
    assert answer.status_code == 409
    assert "Iemand anders heeft dit netwerk net gewijzigd" in answer.text and 'value="Zeist"' in answer.text
    assert not api.called("PATCH", f"/v1/networks/{NET}")


def test_archiving_takes_a_confirmation_page_and_then_one_post():
    api = api_for()
    api.on("POST", f"/v1/networks/{NET}/archive", (200, a_network(status="archived")))
    client = client_for(api)
    confirm = client.get(f"/networks/{NET}/archive")
    assert confirm.status_code == 200 and "Ja, archiveer dit netwerk" in confirm.text
    assert not api.called("POST", f"/v1/networks/{NET}/archive")
    answer = client.post(f"/networks/{NET}/archive", data={
        "csrf": csrf_of(confirm.text), "form_key": form_key_of(confirm.text, f"/networks/{NET}/archive")})
    assert answer.status_code == 303
    archived = api.called("POST", f"/v1/networks/{NET}/archive")
    assert len(archived) == 1 and archived[0].token == TOKEN and archived[0].headers["idempotency-key"]


def test_archiving_a_network_with_active_children_shows_the_apis_reason():
    api = api_for()
    api.on("POST", f"/v1/networks/{NET}/archive",
           api_error(409, "failed_precondition", "the network has active child networks"))
    answer = post(client_for(api), f"/networks/{NET}/archive", f"/networks/{NET}/archive", {})
    assert answer.status_code == 409 and "the network has active child networks" in answer.text


def test_a_participant_editing_gets_the_apis_refusal_page():
    api = api_for("participant")
    api.on("PATCH", f"/v1/networks/{NET}", api_error(403, "permission_denied", "only a coordinator"))
    client = client_for(api)
    for revision in ("3", "2"):  # a stale form too: the API's refusal, not the console's conflict
        answer = post(client, f"/networks/{NET}/edit", f"/networks/{NET}/edit", {"region": "Zeist",
                                                                                 "revision": revision})
        assert answer.status_code == 403 and "Geen toegang" in answer.text


# --- members -----------------------------------------------------------------------------------------------------


def members_api() -> FakeAdminApi:
    api = api_for()

    def members(request: httpx.Request) -> tuple[int, Any]:
        if request.url.params.get("network_id") == NET:
            return 200, {"items": [a_member("m-1", "Anouk de Vries", "coordinator"),
                                   a_member("m-3", "Chris Bakker", organisation="Gemeente Utrecht")]}
        return 200, {"items": [a_member("m-1", "Anouk de Vries", "coordinator"),
                               a_member("m-9", "Dewi Smit", network_id="zorg-zwolle", organisation="MEE")]}

    api.on("GET", "/v1/members", members)
    return api


def test_the_members_page_lists_members_with_perspectives_and_roles_and_offers_the_directory():
    api = members_api()
    page = client_for(api).get(f"/networks/{NET}/members")
    assert page.status_code == 200
    assert "Chris Bakker" in page.text and "Gemeente Utrecht" in page.text and "bewoner" in page.text
    assert '<option value="m-9">Dewi Smit (MEE)</option>' in page.text  # from another network they coordinate
    assert '<option value="m-3">' not in page.text  # already a member
    assert '<th scope="col">' in page.text


def test_a_long_member_list_pages_on_with_the_apis_token():
    api = members_api()
    page_one = {"items": [a_member("m-3", "Chris Bakker")], "next_page_token": "t/2"}
    api.on("GET", "/v1/members", lambda request: (200, page_one if request.url.params.get("network_id") else
                                                  {"items": []}))
    client = client_for(api)
    page = client.get(f"/networks/{NET}/members")
    assert f'href="/networks/{NET}/members?page_token=t/2"' in page.text
    client.get(f"/networks/{NET}/members?page_token=t/2")
    asked = [call.params for call in api.called("GET", "/v1/members") if "network_id" in call.params]
    assert asked[-1] == {"network_id": NET, "page_size": "200", "page_token": "t/2"}


def test_adding_a_member_puts_the_membership_with_the_role():
    api = members_api()
    api.on("PUT", f"/v1/networks/{NET}/members/m-9", (200, {"network_id": NET, "role": "facilitator",
                                                           "joined_at": "2026-02-01T00:00:00Z"}))
    answer = post(client_for(api), f"/networks/{NET}/members", f"/networks/{NET}/members/add",
                  {"member_id": "m-9", "role": "facilitator"})
    assert answer.status_code == 303
    put = api.called("PUT", f"/v1/networks/{NET}/members/m-9")[0]
    assert put.body == {"role": "facilitator"} and put.token == TOKEN and put.headers["idempotency-key"]


def test_a_new_person_is_registered_then_added_and_a_known_email_is_refused_next_to_the_field():
    api = members_api()
    api.on("POST", "/v1/members", (201, a_member("m-20", "Eva Visser", network_id="none")))
    api.on("PUT", f"/v1/networks/{NET}/members/m-20", (200, {"network_id": NET, "role": "participant",
                                                            "joined_at": "2026-02-01T00:00:00Z"}))
    client = client_for(api)
    answer = post(client, f"/networks/{NET}/members", f"/networks/{NET}/members/register",
                  {"name": "Eva Visser", "email": "eva@example.org", "perspectives": ["resident", "volunteer"],
                   "role": "participant"})
    assert answer.status_code == 303
    assert api.called("POST", "/v1/members")[0].body == {"name": "Eva Visser", "email": "eva@example.org",
                                                         "perspectives": ["resident", "volunteer"]}
    assert api.called("PUT", f"/v1/networks/{NET}/members/m-20")[0].body == {"role": "participant"}

    api.on("POST", "/v1/members", api_error(409, "already_exists", "email already registered"))
    refused = post(client, f"/networks/{NET}/members", f"/networks/{NET}/members/register",
                   {"name": "Eva Visser", "email": "eva@example.org", "perspectives": "resident"})
    assert refused.status_code == 409
    assert error_next_to(refused.text, "email") == "email already registered"
    assert 'value="eva@example.org"' in refused.text
    assert len(api.called("PUT", f"/v1/networks/{NET}/members/m-20")) == 1  # no membership for the refused one


def test_a_missing_perspective_is_shown_by_the_checkboxes():
    api = members_api()
    api.on("POST", "/v1/members", api_error(422, "invalid_argument", "invalid request", [
        {"field": "perspectives", "rule": "too_short", "message": "give at least one perspective"}]))
    refused = post(client_for(api), f"/networks/{NET}/members", f"/networks/{NET}/members/register",
                   {"name": "Eva Visser", "email": "eva@example.org"})
    assert refused.status_code == 422
    assert error_next_to(refused.text, "perspectives") == "Kies of vul er meer in."


def test_each_form_on_a_page_has_its_own_key_so_the_api_never_sees_one_key_for_two_requests():
    for api, url in ((members_api(), f"/networks/{NET}/members"), (links_api(), f"/networks/{NET}/links")):
        page = client_for(api).get(url)
        keys = re.findall(r'name="form_key" value="([^"]+)"', page.text)
        assert len(keys) > 3 and len(set(keys)) == len(keys), url


def test_changing_a_role_and_removing_a_member_call_the_membership_routes():
    api = members_api()
    api.on("PUT", f"/v1/networks/{NET}/members/m-3", (200, {"network_id": NET, "role": "facilitator",
                                                           "joined_at": "2026-01-01T00:00:00Z"}))
    api.on("DELETE", f"/v1/networks/{NET}/members/m-3", (204, None))
    api.on("GET", "/v1/members/m-3", (200, a_member("m-3", "Chris Bakker")))
    client = client_for(api)
    assert post(client, f"/networks/{NET}/members", f"/networks/{NET}/members/m-3/role",
                {"role": "facilitator"}).status_code == 303
    assert api.called("PUT", f"/v1/networks/{NET}/members/m-3")[0].body == {"role": "facilitator"}
    # Asked first on a page of its own; nothing is removed by drawing it.
    question = client.get(f"/networks/{NET}/members/m-3/remove")
    assert question.status_code == 200 and "Chris Bakker uit het netwerk halen?" in question.text
    assert not api.called("DELETE", f"/v1/networks/{NET}/members/m-3")
    answer = post(client, f"/networks/{NET}/members/m-3/remove", f"/networks/{NET}/members/m-3/remove", {})
    assert answer.status_code == 303
    removed = api.called("DELETE", f"/v1/networks/{NET}/members/m-3")
    assert len(removed) == 1 and removed[0].token == TOKEN


def test_a_facilitator_the_api_does_not_list_members_to_sees_the_refusal_in_the_page():
    api = api_for("facilitator")
    api.on("GET", "/v1/members", api_error(403, "permission_denied", "searching members needs a coordinator"))
    page = client_for(api).get(f"/networks/{NET}/members")
    assert page.status_code == 200
    assert "U kunt de ledenlijst van dit netwerk (nog) niet inzien" in page.text
    assert "searching members needs a coordinator" in page.text
    assert "/members/add" not in page.text


def test_a_participant_asking_for_the_members_gets_the_refusal_page():
    api = api_for("participant")
    api.on("GET", "/v1/members", api_error(403, "permission_denied", "searching members needs a coordinator"))
    page = client_for(api).get(f"/networks/{NET}/members")
    assert page.status_code == 200  # drawn in the page, as for a facilitator: the API decides
    assert "searching members needs a coordinator" in page.text and "/members/add" not in page.text


# --- health ------------------------------------------------------------------------------------------------------


def a_health_report() -> dict[str, Any]:
    statuses = ["shown", "shown", "not_shown", "not_measurable", "shown", "not_shown", "shown", "shown",
                "not_measurable"]
    return {"network_id": NET, "network_name": "Werkplaats Utrecht", "generated_at": "2026-03-01T12:00:00Z",
            "language": "nl", "steps": [
                {"step": n, "key": f"step{n}", "title": f"Stap {n} <titel>", "status": status,
                 "evidence": f"bewijs {n}", "missing": "nog geen verslag" if status == "not_shown" else None,
                 "little_data": n == 2, "little_data_note": "twee bijeenkomsten" if n == 2 else None}
                for n, status in enumerate(statuses, start=1)]}


def test_the_health_page_draws_nine_steps_as_an_svg_and_as_a_list_in_the_persons_language():
    api = api_for("facilitator")
    api.on("GET", f"/v1/networks/{NET}/health", (200, a_health_report()))
    client = client_for(api)
    page = client.get(f"/networks/{NET}/health")
    assert page.status_code == 200
    svg = page.text.split("<svg class=\"chart nine-steps\"", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "5 zichtbaar, 2 niet zichtbaar, 2 niet te meten" in svg
    assert svg.count("<circle") == 9 and svg.count("step-shown") == 5
    assert "Stap 3 &lt;titel&gt;" in page.text and "<titel>" not in page.text  # the API's text, escaped
    assert "nog geen verslag" in page.text and "twee bijeenkomsten" in page.text
    assert api.called("GET", f"/v1/networks/{NET}/health")[0].headers["accept-language"] == "nl"
    client.get(f"/networks/{NET}/health", headers={"Accept-Language": "en"})
    assert api.called("GET", f"/v1/networks/{NET}/health")[-1].headers["accept-language"] == "en"


def test_the_health_page_numbers_each_step_once():
    api = api_for("facilitator")
    api.on("GET", f"/v1/networks/{NET}/health", (200, a_health_report()))
    page = client_for(api).get(f"/networks/{NET}/health").text
    steps = page.split('<ol class="steps">', 1)[1].split("</ol>", 1)[0]
    assert re.findall(r"<h4>(\d+)\. Stap", steps) == [str(n) for n in range(1, 10)]  # the number in the heading
    css = client_for(api).get("/static/console.css").text
    assert ".steps { list-style: none;" in css  # and not a second one from the list


# --- learning report ---------------------------------------------------------------------------------------------


def a_learning_report() -> dict[str, Any]:
    return {"network_id": NET, "period_from": "2026-01-01T00:00:00Z", "period_to": "2026-04-01T00:00:00Z",
            "sessions_held": 3, "sessions_by_format": {"world_cafe": 2, "intervision": 1}, "attendance_total": 31,
            "attendance_average": 10.33, "distinct_attendees": 17, "perspective_mix": [
                {"session_id": "s-1", "title": "Wereldcafé over <wonen>", "format": "world_cafe",
                 "starts_at": "2026-02-10T14:00:00Z", "attendee_count": 11,
                 "perspective_counts": {"resident": 4, "practitioner": 7}}],
            "perspective_totals": {"resident": 12, "practitioner": 19}, "outputs_by_kind": {"lesson": 4},
            "reflections_by_kind": {"behaviour": 5}, "loops": {"opened": 6, "closed": 2, "closed_with_output": 1,
                                                               "experiments": 3, "experiments_by_mandate": {},
                                                               "followed_up": 2},
            "language": "nl", "summary": ["In deze periode hielden jullie 3 bijeenkomsten."]}


def test_the_learning_report_asks_for_the_whole_chosen_days_and_draws_charts_with_tables():
    api = api_for()
    api.on("GET", f"/v1/networks/{NET}/learning-report", (200, a_learning_report()))
    page = client_for(api).get(f"/networks/{NET}/learning?period_from=2026-01-01&period_to=2026-03-31")
    assert page.status_code == 200
    asked = api.called("GET", f"/v1/networks/{NET}/learning-report")[0]
    assert asked.params == {"period_from": "2026-01-01T00:00:00Z", "period_to": "2026-04-01T00:00:00Z"}
    assert page.text.count('class="chart bars" role="img"') == 5
    assert "wereldcafé" in page.text and "<td>2</td>" in page.text and "10,3" in page.text
    assert "In deze periode hielden jullie 3 bijeenkomsten." in page.text
    assert "Van 01-01-2026 tot en met 31-03-2026" in page.text  # the API's end is exclusive
    assert "Wereldcafé over &lt;wonen&gt;" in page.text and "<td>11</td>" in page.text


def test_an_end_before_the_start_is_refused_next_to_the_end_without_asking_the_api():
    api = api_for()
    answer = client_for(api).get(f"/networks/{NET}/learning?period_from=2026-03-01&period_to=2026-02-01")
    assert answer.status_code == 422
    assert error_next_to(answer.text, "period_to") == "De einddatum ligt vóór de begindatum."
    assert not api.called("GET", f"/v1/networks/{NET}/learning-report")


def test_a_period_the_api_refuses_is_shown_next_to_the_field_it_names():
    api = api_for()
    api.on("GET", f"/v1/networks/{NET}/learning-report", api_error(422, "invalid_argument", "invalid request", [
        {"field": "period_from", "rule": "too_old", "message": "the period may span at most five years"}]))
    answer = client_for(api).get(f"/networks/{NET}/learning?period_from=2001-01-01")
    assert answer.status_code == 422
    assert error_next_to(answer.text, "period_from") == "the period may span at most five years"


def test_a_date_that_is_no_date_is_refused_next_to_its_field():
    answer = client_for(api_for()).get(f"/networks/{NET}/learning?period_from=31-01-2026")
    assert answer.status_code == 422 and "2026-01-31" in error_next_to(answer.text, "period_from")


# --- links -------------------------------------------------------------------------------------------------------


def a_link(link_id: str, requester: str, target: str, status: str, **policies: Any) -> dict[str, Any]:
    every = {"visibilities": ["linked", "federation", "public"], "themes": None}
    return {"link_id": link_id, "kind": "peer", "requester_network_id": requester, "target_network_id": target,
            "status": status, "requester_policy": policies.get("requester_policy", every),
            "target_policy": policies.get("target_policy", every), "requested_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z", "revision": 1}


def links_api() -> FakeAdminApi:
    api = api_for()
    api.on("GET", f"/v1/networks/{NET}/links", (200, {"items": [
        a_link("l-1", "zorg-zwolle", NET, "requested"),
        a_link("l-2", NET, "beter-oud", "active",
               requester_policy={"visibilities": ["linked"], "themes": ["eenzaamheid"]}),
    ]}))
    return api


def test_the_links_page_shows_both_directions_and_the_actions_each_status_allows():
    page = client_for(links_api()).get(f"/networks/{NET}/links")
    assert page.status_code == 200
    assert "Zorgnetwerk Zwolle" in page.text and "door hen gevraagd" in page.text
    assert f"/networks/{NET}/links/l-1/accept" in page.text and f"/networks/{NET}/links/l-1/reject" in page.text
    assert f"/networks/{NET}/links/l-2/accept" not in page.text and f"/networks/{NET}/links/l-2/revoke" in page.text
    outgoing = page.text.split('href="/networks/beter-oud">BeterOud</a></td>', 1)[1].split("</tr>", 1)[0]
    assert re.search(r"<td>verbonden netwerken;\s*alleen thema&#39;s: eenzaamheid</td>", outgoing)


def test_requesting_a_link_posts_the_requester_target_and_policy():
    api = links_api()
    api.on("POST", "/v1/links", (201, a_link("l-3", NET, "zorg-zwolle", "requested")))
    answer = post(client_for(api), f"/networks/{NET}/links", f"/networks/{NET}/links/request",
                  {"target_network_id": "zorg-zwolle", "visibilities": ["linked", "public"],
                   "themes": "Eenzaamheid, wonen"})
    assert answer.status_code == 303
    sent = api.called("POST", "/v1/links")[0]
    assert sent.body == {"requester_network_id": NET, "target_network_id": "zorg-zwolle",
                         "policy": {"visibilities": ["linked", "public"], "themes": ["Eenzaamheid", "wonen"]}}
    assert sent.token == TOKEN and sent.headers["idempotency-key"]


def test_a_link_to_a_peer_instances_network_names_the_peer_and_its_refusal_lands_on_the_typed_id():
    api = links_api()
    api.on("POST", "/v1/links", api_error(422, "invalid_argument", "not a network of that peer", [
        {"field": "target_network_id", "rule": "peer_network", "message": "not one of that peer's networks"}]))
    answer = post(client_for(api), f"/networks/{NET}/links", f"/networks/{NET}/links/request",
                  {"via": "peer", "peer": "kring-noord", "peer_network_id": "buurt-groningen",
                   "visibilities": "linked"})
    assert answer.status_code == 422
    assert api.called("POST", "/v1/links")[0].body["peer"] == "kring-noord"
    assert error_next_to(answer.text, "peer_network_id") == "not one of that peer's networks"
    assert 'value="buurt-groningen"' in answer.text


def test_accepting_rejecting_and_revoking_post_to_the_link_and_a_stale_one_shows_the_conflict():
    api = links_api()
    api.on("GET", "/v1/links/l-1", (200, a_link("l-1", "zorg-zwolle", NET, "requested")))
    for action in ("accept", "reject", "revoke"):
        api.on("POST", f"/v1/links/l-1/{action}", (200, a_link("l-1", "zorg-zwolle", NET, "active")))
    client = client_for(api)
    for action in ("accept", "reject", "revoke"):
        # Ending a link is asked on a page of its own first; accepting and rejecting are answered in the table.
        from_page = f"/networks/{NET}/links" + ("/l-1/revoke" if action == "revoke" else "")
        assert post(client, from_page, f"/networks/{NET}/links/l-1/{action}", {}).status_code == 303
        assert len(api.called("POST", f"/v1/links/l-1/{action}")) == 1
    api.on("POST", "/v1/links/l-1/accept", api_error(409, "failed_precondition", "the link is revoked"))
    refused = post(client, f"/networks/{NET}/links", f"/networks/{NET}/links/l-1/accept", {})
    assert refused.status_code == 409 and "the link is revoked" in refused.text


def test_ending_a_link_asks_first_saying_what_stops_and_sends_nothing_until_confirmed():
    api = links_api()
    api.on("GET", "/v1/links/l-2", (200, a_link("l-2", NET, "beter-oud", "active")))
    client = client_for(api)
    table = client.get(f"/networks/{NET}/links").text
    assert f'href="/networks/{NET}/links/l-2/revoke"' in table  # a link to the question, not a button that ends it
    assert f'action="/networks/{NET}/links/l-2/revoke"' not in table
    page = client.get(f"/networks/{NET}/links/l-2/revoke")
    assert page.status_code == 200
    assert "Verbinding met BeterOud beëindigen?" in page.text
    assert "deelt Werkplaats Utrecht niets nieuws meer met BeterOud" in page.text
    assert not api.called("POST", "/v1/links/l-2/revoke")


def test_setting_the_policy_sends_our_side_and_a_refusal_lands_in_that_links_form():
    api = links_api()
    api.on("PUT", "/v1/links/l-2/policy", (200, a_link("l-2", NET, "beter-oud", "active")))
    client = client_for(api)
    page = client.get(f"/networks/{NET}/links")
    assert 'id="policy-l-2-themes" name="themes" value="eenzaamheid"' in page.text
    answer = post(client, f"/networks/{NET}/links", f"/networks/{NET}/links/l-2/policy",
                  {"visibilities": ["linked", "federation"], "themes": ""})
    assert answer.status_code == 303
    assert api.called("PUT", "/v1/links/l-2/policy")[0].body == {
        "network_id": NET, "policy": {"visibilities": ["linked", "federation"]}}
    api.on("PUT", "/v1/links/l-2/policy", api_error(422, "invalid_argument", "invalid", [
        {"field": "policy.visibilities", "rule": "required_with_themes", "message": "themes need a visibility"}]))
    refused = post(client, f"/networks/{NET}/links", f"/networks/{NET}/links/l-2/policy", {"themes": "wonen"})
    assert refused.status_code == 422 and "themes need a visibility" in refused.text
    assert 'id="policy-l-2-themes" name="themes" value="wonen"' in refused.text


def test_a_facilitator_opening_links_gets_the_apis_refusal_page():
    api = api_for("facilitator")
    api.on("GET", f"/v1/networks/{NET}/links", api_error(403, "permission_denied", "coordinators only"))
    answer = client_for(api).get(f"/networks/{NET}/links")
    assert answer.status_code == 403 and "coordinators only" in answer.text


# --- feed and deliveries -----------------------------------------------------------------------------------------


FEED_AUTHORS = [{"shown_as": "Dewi Smit", "named": True, "role": None},
                {"shown_as": "a participant with lived experience", "named": False, "role": "lived_experience"},
                {"shown_as": "a former member", "named": False, "role": "former_member"}]


def feed_page(authors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A feed page as the API answers it (the copy's authors with their `role` codes, as the federation service
    adds them: checked in test_console_own_and_operator_shapes.py)."""
    return {"items": [
        {"position": 1, "network_id": NET, "delivered_at": "2026-02-01T09:30:00Z", "backfill": True,
         "output": {"output_id": "o-1", "origin_network_id": "zorg-zwolle", "session_id": "s-1", "kind": "lesson",
                    "title": "Huisbezoek werkt", "body": "Ga langs.", "themes": ["eenzaamheid"], "url": None,
                    "resource_type": None, "visibility": "linked", "licence": "CC-BY-4.0",
                    "published_at": "2026-02-01T09:00:00+00:00",
                    "authors": FEED_AUTHORS if authors is None else authors}},
        {"position": 2, "network_id": NET, "delivered_at": "2026-02-02T09:30:00Z", "backfill": False,
         "output": {"output_id": "o-2", "origin_network_id": "zorg-zwolle", "retracted": True,
                    "retracted_at": "2026-02-02T09:00:00+00:00"}},
    ], "next_page_token": "p=2&x"}


def test_the_feed_shows_each_entry_with_its_source_network_and_authors_and_a_more_link():
    api = api_for("participant")
    api.on("GET", f"/v1/networks/{NET}/feed", (200, feed_page()))
    client = client_for(api)
    page = client.get(f"/networks/{NET}/feed")
    assert page.status_code == 200
    assert "Huisbezoek werkt" in page.text and "Van Zorgnetwerk Zwolle" in page.text
    assert "Door: Dewi Smit, een ervaringsdeskundige, een voormalig lid" in page.text
    assert "van vóór de verbinding" in page.text
    assert "Teruggetrokken" in page.text
    assert f'href="/networks/{NET}/feed?page_token=p%3D2%26x"' in page.text
    client.get(f"/networks/{NET}/feed?page_token=p%3D2%26x")
    assert api.called("GET", f"/v1/networks/{NET}/feed")[-1].params == {"page_size": "20", "page_token": "p=2&x"}


def test_an_author_shown_by_role_is_said_in_the_pages_language_from_the_apis_code():
    api = api_for("participant")
    api.on("GET", f"/v1/networks/{NET}/feed", (200, feed_page()))
    client = client_for(api)
    assert "a participant with lived experience" not in client.get(f"/networks/{NET}/feed").text
    english = client.get(f"/networks/{NET}/feed", headers={"Accept-Language": "en"})
    assert "By: Dewi Smit, a participant with lived experience, a former member" in english.text


def test_a_role_the_console_has_no_words_for_shows_as_the_api_gave_it():
    unknown = [{"shown_as": "a neighbourhood coach", "named": False, "role": None}]  # from another instance
    api = api_for("participant")
    api.on("GET", f"/v1/networks/{NET}/feed", (200, feed_page(unknown)))
    assert "Door: a neighbourhood coach" in client_for(api).get(f"/networks/{NET}/feed").text


def test_the_delivery_log_lists_each_receiving_network():
    api = api_for()
    api.on("GET", "/v1/outputs/o-1/deliveries", (200, {"output_id": "o-1", "origin_network_id": NET, "items": [
        {"network_id": "zorg-zwolle", "delivered_at": "2026-02-01T09:30:00Z", "backfill": False,
         "tombstoned_at": None},
        {"network_id": "public", "delivered_at": "2026-02-01T09:30:00Z", "backfill": False,
         "tombstoned_at": "2026-02-03T10:00:00Z"}]}))
    page = client_for(api).get("/outputs/o-1/deliveries")
    assert page.status_code == 200
    assert '<a href="/networks/zorg-zwolle">Zorgnetwerk Zwolle</a>' in page.text
    assert "de openbare lijst" in page.text and "03-02-2026 11:00" in page.text  # Dutch time


def test_every_perspective_the_api_knows_has_words_on_the_network_pages():
    # A member from education or research broke the members page once (no text for their perspective).
    from services.common.vocabulary import Perspective
    from services.console.pages.networks import PERSPECTIVES
    from services.console.texts import CONSOLE

    assert set(PERSPECTIVES) == {p.value for p in Perspective}
    assert all(f"networks.perspective.{p.value}" in CONSOLE for p in Perspective)
    api = members_api()
    api.on("GET", "/v1/members", (200, {"items": [{**a_member("m-4", "Eva Visser"), "perspectives": ["research",
                                                                                                    "education"]}]}))
    page = client_for(api).get(f"/networks/{NET}/members")
    assert page.status_code == 200 and "onderzoek" in page.text


def test_someone_outside_a_network_gets_no_feed_tab_the_api_would_refuse_them():
    from services.console.pages.frame import visible_tabs

    assert "feed" not in [tab for tab, _ in visible_tabs([], operator=False)]
    assert "feed" in [tab for tab, _ in visible_tabs(["participant"], operator=False)]
    assert "feed" in [tab for tab, _ in visible_tabs([], operator=True)]
    outsider = api_for("participant")
    outsider.on("GET", "/v1/whoami", (200, {"operator": False, "member_id": "m-1", "administers": [],
                                            "facilitates": [], "member_of": ["zorg-zwolle"]}))
    page = client_for(outsider).get(f"/networks/{NET}")
    assert page.status_code == 200 and f'href="/networks/{NET}/feed"' not in page.text
    assert f'href="/networks/{NET}/sessions"' in page.text
