"""Sessions through the admin API alone, with the whole stack running as separate processes: scheduling rules,
registration with capacity, waitlist and the preparation policy, the life cycle, attendance, outputs with
consent-aware attribution seen from inside and outside the network, reflections, the health and learning
reports, and the member export.

The stack is shared by every test of a session, so each test builds its own networks and members.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.test_networks_e2e import create_network, register, set_role, token_for
from tests.support.http import error, ok
from tests.support.naming import fresh_tag
from tests.support.waiting import eventually

LIVED = "a participant with lived experience"


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def plan(title: str, starts_in_hours: float, **extra) -> dict:
    return {"title": title, "format": "knowledge_cafe", "mode": "in_person", "location": "Buurthuis De Boog",
            "starts_at": at(starts_in_hours), "ends_at": at(starts_in_hours + 2), **extra}


@dataclass
class Network:
    """A neighbourhood network with its staff and participants, each with their own admin API client."""

    id: str
    other_id: str  # a network elsewhere, whose member is an outsider here
    clients: dict[str, httpx.Client]
    ids: dict[str, str]
    names: dict[str, str]

    def __getattr__(self, who: str) -> httpx.Client:
        return self.clients[who]


PEOPLE = {  # key: (name, perspectives, named_in_shared_outputs, role)
    "coordinator": ("Karin Kwartiermaker", ["municipality_policy"], True, "coordinator"),
    "facilitator": ("Fatima Begeleider", ["practitioner"], True, "facilitator"),
    "henk": ("Henk Ervaring", ["lived_experience"], False, "participant"),
    "anouk": ("Anouk Onderzoek", ["research"], True, "participant"),
    "ruud": ("Ruud Vrijwilliger", ["volunteer"], False, "participant"),
    "lotte": ("Lotte Student", ["education"], True, "participant"),
}


@pytest.fixture
def network(stack, operator):
    tag = fresh_tag()
    regional = create_network(operator, f"Werkplaats {tag}", "regional", kind="werkplaats", region="Utrecht")
    local = create_network(operator, f"Leerkring {tag}", "neighbourhood", regional["id"],
                           kind="community_of_practice", urgency="more older residents live alone")
    other = create_network(operator, f"Elders {tag}", "neighbourhood", regional["id"])
    clients, ids, names = {}, {}, {}
    for key, (name, perspectives, named, role) in PEOPLE.items():
        member = register(operator, name, perspectives)
        if named:
            ok(operator.patch(f"/v1/members/{member['id']}", json={"named_in_shared_outputs": True}), 200)
        set_role(operator, local["id"], member["id"], role)
        clients[key], ids[key], names[key] = stack.client(token_for(operator, member["id"])), member["id"], name
    outsider = register(operator, "Otto Buitenstaander", ["resident"])
    set_role(operator, other["id"], outsider["id"], "participant")
    clients["outsider"], ids["outsider"], names["outsider"] = (stack.client(token_for(operator, outsider["id"])),
                                                               outsider["id"], "Otto Buitenstaander")
    clients["operator"] = operator
    yield Network(local["id"], other["id"], clients, ids, names)
    for key, client in clients.items():
        if key != "operator":
            client.close()


@pytest.fixture
def operator(stack):
    with stack.client() as client:
        yield client


def test_scheduling_checks_its_rules_and_the_directory_hides_meeting_links_from_outsiders(network):
    sessions = f"/v1/networks/{network.id}/sessions"
    cafe = ok(network.facilitator.post(sessions, json=plan(
        "Wereldcafé: eenzaamheid in de wijk", 24 * 7, format="world_cafe", mode="hybrid",
        meeting_url="https://meet.example.org/wereldcafe",
        statements=["Eenzaamheid is een taboe", "De buurt kan meer dan de professional"])), 201)
    assert (cafe["status"], cafe["statements"][0]) == ("planned", "Eenzaamheid is een taboe")

    # statements are for world cafés and knowledge cafés (tests/e2e/test_statements_e2e.py), not other formats
    statements_elsewhere = network.facilitator.post(sessions, json=plan("Intervisie", 24, format="intervision",
                                                                        statements=["Stelling"]))
    assert error(statements_elsewhere) == (422, "validation_failed", {("statements", "cafe_only")})
    online_without_link = network.facilitator.post(sessions, json=plan("Webinar", 24, format="webinar", mode="online",
                                                                       location=None))
    assert error(online_without_link) == (422, "validation_failed", {("meeting_url", "required_for_mode")})
    assert network.henk.post(sessions, json=plan("Eigen sessie", 24)).status_code == 403

    assert ok(network.henk.get(f"/v1/sessions/{cafe['id']}"), 200)["meeting_url"] == "https://meet.example.org/wereldcafe"
    assert ok(network.outsider.get(f"/v1/sessions/{cafe['id']}"), 200)["meeting_url"] is None
    listed = ok(network.outsider.get(sessions, params={"starts_from": at(24), "status": "planned"}), 200)["items"]
    assert [(s["id"], s["meeting_url"]) for s in listed] == [(cafe["id"], None)]

    too_early = network.facilitator.post(f"/v1/sessions/{cafe['id']}/hold")
    assert error(too_early) == (409, "illegal_transition", {("starts_at", "not_started")})
    later = {"starts_at": at(24 * 8), "ends_at": at(24 * 8 + 2), "reason": "zaal bezet"}
    moved = ok(network.coordinator.post(f"/v1/sessions/{cafe['id']}/reschedule", json=later), 200)
    assert [r["reason"] for r in moved["reschedules"]] == ["zaal bezet"]
    assert network.outsider.post(f"/v1/sessions/{cafe['id']}/cancel").status_code == 403


def test_registration_fills_the_seats_then_the_waitlist_and_a_cancellation_promotes_the_first_waiting(network):
    session = ok(network.facilitator.post(f"/v1/networks/{network.id}/sessions",
                                          json=plan("Kenniscafé mantelzorg", 24 * 3, capacity=2)), 201)
    registrations = f"/v1/sessions/{session['id']}/registrations"
    assert ok(network.henk.post(registrations, json={}), 201)["status"] == "registered"
    assert ok(network.anouk.post(registrations, json={"member_id": network.ids["anouk"]}), 201)["status"] == \
        "registered"
    waiting = ok(network.facilitator.post(registrations, json={"member_id": network.ids["ruud"]}), 201)
    assert (waiting["status"], waiting["waitlist_position"]) == ("waitlisted", 1)
    assert network.outsider.post(registrations, json={}).status_code == 403  # not a member of this network
    assert network.lotte.post(registrations, json={"member_id": network.ids["ruud"]}).status_code == 403

    assert network.lotte.delete(f"{registrations}/{network.ids['henk']}").status_code == 403
    assert ok(network.henk.delete(f"{registrations}/{network.ids['henk']}"), 200)["status"] == "cancelled"
    listed = {r["member_id"]: r["status"] for r in ok(network.coordinator.get(registrations), 200)["items"]}
    assert listed == {network.ids["henk"]: "cancelled", network.ids["anouk"]: "registered",
                      network.ids["ruud"]: "registered"}
    assert network.henk.get(registrations).status_code == 403


def test_a_member_reads_their_own_registration_and_place_on_the_waitlist_but_nobody_elses(network):
    session = ok(network.facilitator.post(f"/v1/networks/{network.id}/sessions",
                                          json=plan("Kenniscafé wonen", 24 * 4, capacity=1)), 201)
    registrations = f"/v1/sessions/{session['id']}/registrations"
    henk, ruud, lotte = (network.ids[k] for k in ("henk", "ruud", "lotte"))
    ok(network.henk.post(registrations, json={}), 201)
    ok(network.ruud.post(registrations, json={"prepared": True}), 201)
    mine = ok(network.ruud.get(f"{registrations}/{ruud}"), 200)
    assert (mine["status"], mine["waitlist_position"], mine["prepared"]) == ("waitlisted", 1, True)
    assert ok(network.henk.get(f"/v1/sessions/{session['id']}"), 200)["my_registration"] == "registered"
    listed = ok(network.ruud.get(f"/v1/networks/{network.id}/sessions"), 200)["items"]
    assert {s["id"]: s["my_registration"] for s in listed}[session["id"]] == "waitlisted"
    assert error(network.lotte.get(f"{registrations}/{lotte}")) == (404, "not_found", {("member_id", "registered")})
    assert network.lotte.get(f"{registrations}/{henk}").status_code == 403
    assert ok(network.facilitator.get(f"{registrations}/{henk}"), 200)["status"] == "registered"
    ok(network.henk.delete(f"{registrations}/{henk}"), 200)
    assert ok(network.ruud.get(f"{registrations}/{ruud}"), 200)["status"] == "registered"  # promoted


def test_an_action_learning_network_refuses_an_unprepared_registration(stack, operator):
    tag = fresh_tag()
    circle = create_network(operator, f"Actieleren {tag}", "local", kind="learning_circle", requires_preparation=True,
                            unprepared_policy="refuse")
    member = register(operator, "Pim Praktijk", ["practitioner"])
    set_role(operator, circle["id"], member["id"], "participant")
    session = ok(operator.post(f"/v1/networks/{circle['id']}/sessions",
                               json=plan("Actieleersessie", 24, format="action_learning_session")), 201)
    with stack.client(token_for(operator, member["id"])) as pim:
        refused = pim.post(f"/v1/sessions/{session['id']}/registrations", json={"prepared": False})
        assert error(refused) == (422, "validation_failed", {("prepared", "preparation_required")})
        accepted = ok(pim.post(f"/v1/sessions/{session['id']}/registrations", json={"prepared": True}), 201)
        assert (accepted["status"], accepted["prepared"]) == ("registered", True)


def test_a_held_session_gets_attendance_outputs_and_reflections_which_the_reports_and_export_show(network):
    session = ok(network.facilitator.post(f"/v1/networks/{network.id}/sessions", json=plan(
        "Leersessie: wat werkt tegen eenzaamheid", -3, contributions=[
            {"member_id": network.ids["henk"], "topic": "Mijn verhaal"}])), 201)
    path = f"/v1/sessions/{session['id']}"
    assert ok(network.facilitator.post(f"{path}/hold"), 200)["status"] == "held"
    present = [network.ids[k] for k in ("facilitator", "henk", "anouk", "ruud")]
    attendance = ok(network.facilitator.put(f"{path}/attendance", json={"member_ids": present}), 200)
    assert (attendance["attendee_count"], attendance["perspective_counts"]["lived_experience"]) == (4, 1)
    assert network.henk.put(f"{path}/attendance", json={"member_ids": present}).status_code == 403

    authors = [network.ids["henk"], network.ids["anouk"]]
    lesson = ok(network.facilitator.post(f"{path}/outputs", json={
        "kind": "lesson", "title": "Vraag eerst wat iemand zelf wil", "authors": authors,
        "visibility": "public", "themes": ["eenzaamheid"]}), 201)
    inside_only = ok(network.coordinator.post(f"{path}/outputs", json={
        "kind": "conclusion", "title": "Onze buurt mist ontmoetingsplekken", "authors": authors}), 201)
    for body in ({"kind": "learning_question", "title": "Hoe bereiken we wie niet komt?", "authors": authors[:1],
                  "visibility": "linked"},
                 {"kind": "resource", "title": "Kennisclip", "url": "https://example.org/clip", "authors": authors[1:],
                  "resource_type": "knowledge_clip", "visibility": "public"}):
        ok(network.facilitator.post(f"{path}/outputs", json=body), 201)
    assert network.henk.post(f"{path}/outputs", json={"kind": "lesson", "title": "x", "authors": authors}).status_code \
        == 403

    outside_view = ok(network.outsider.get(f"/v1/outputs/{lesson['id']}"), 200)["authors"]
    inside = [a["shown_as"] for a in ok(network.ruud.get(f"/v1/outputs/{lesson['id']}"), 200)["authors"]]
    assert [a["shown_as"] for a in outside_view] == [LIVED, network.names["anouk"]]
    assert [a["role"] for a in outside_view] == ["lived_experience", None]  # the code for a client's own words
    assert [a["member_id"] for a in outside_view] == [None, None]  # ids would link a person's outputs
    assert inside == [network.names["henk"], network.names["anouk"]]
    assert network.outsider.get(f"/v1/outputs/{inside_only['id']}").status_code == 403
    # Outside the network only public outputs show here; the linked one travels through linked networks' feeds.
    outside_list = ok(network.outsider.get(f"/v1/networks/{network.id}/outputs"), 200)["items"]
    assert inside_only["id"] not in [o["id"] for o in outside_list] and len(outside_list) == 2
    assert len(ok(network.henk.get(f"{path}/outputs"), 200)["items"]) == 4

    retracted = ok(network.facilitator.post(f"/v1/outputs/{inside_only['id']}/retract", json={"reason": "dubbel"}), 200)
    assert set(retracted) == {"id", "retracted_at"}
    assert ok(network.henk.get(f"/v1/outputs/{inside_only['id']}"), 200) == retracted

    illegal = network.facilitator.post(f"{path}/cancel")
    assert error(illegal) == (409, "illegal_transition", {("status", "illegal_transition")})
    assert ok(network.facilitator.post(f"{path}/close"), 200)["status"] == "closed"
    later = {"starts_at": at(24), "ends_at": at(26)}
    assert error(network.facilitator.post(f"{path}/reschedule", json=later)) == (
        409, "illegal_transition", {("status", "illegal_transition")})

    reflection = {"session_id": session["id"], "kind": "perspective", "text": "Ik zie bewoners als experts."}
    assert ok(network.henk.post("/v1/reflections", json=reflection), 201)["member_id"] == network.ids["henk"]
    ok(network.anouk.post("/v1/reflections", json={**reflection, "kind": "task_conception", "text": "Mijn rol."}), 201)
    assert network.operator.post("/v1/reflections", json=reflection).status_code == 403
    # Not a member there: refused as a registration is, with the same error.
    assert error(network.outsider.post("/v1/reflections", json=reflection)) == (403, "permission_denied", set())
    # Henk reads his own, and only his own; reading them is no export, so the audit log says nothing of it.
    own = ok(network.henk.get("/v1/reflections"), 200)
    assert [(r["member_id"], r["text"]) for r in own["items"]] == [(network.ids["henk"], reflection["text"])]
    assert network.anouk.get("/v1/reflections", params={"member_id": network.ids["henk"]}).status_code == 403
    assert ok(network.operator.get("/v1/reflections", params={"member_id": network.ids["anouk"]}), 200)["items"][0][
        "kind"] == "task_conception"
    audit = ok(network.operator.get("/v1/audit", params={"action": "member.exported",
                                                         "target_id": network.ids["henk"]}), 200)
    assert audit["items"] == []

    report = ok(network.facilitator.get(f"/v1/networks/{network.id}/learning-report"), 200)
    assert (report["sessions_held"], report["attendance_total"], report["distinct_attendees"]) == (1, 4, 4)
    assert report["outputs_by_kind"] == {"conclusion": 0, "learning_question": 1, "lesson": 1, "resource": 1}
    assert report["reflections_by_kind"] == {"self_image": 0, "behaviour": 0, "perspective": 1,
                                             "task_conception": 1}
    text = json.dumps(report)
    assert not [v for v in (*network.ids.values(), *network.names.values()) if v in text], "a person in the report"
    assert network.henk.get(f"/v1/networks/{network.id}/learning-report").status_code == 403

    health = f"/v1/networks/{network.id}/health"
    steps = eventually(lambda: ok(network.coordinator.get(health, headers={"Accept-Language": "en"}), 200)["steps"],
                       "the health report follows the session's events",
                       accept=lambda s: s[6]["status"] == "shown" and s[8]["status"] == "shown"
                       and s[5]["status"] == "shown")
    assert steps[6]["evidence"] == "2 reflections and 1 learning question recorded"
    assert steps[8]["evidence"] == "3 outputs shared beyond the network, 3 published in all"
    assert steps[7]["status"] == "not_shown"  # one session is not 18 months of them

    exported = ok(network.henk.get(f"/v1/members/{network.ids['henk']}/export"), 200)
    assert exported["members"]["member"]["name"] == network.names["henk"]
    involvement = exported["sessions"]["sessions"]
    assert [(s["session_id"], s["attended"], s["contributed_topics"]) for s in involvement] == [
        (session["id"], True, ["Mijn verhaal"])]
    assert {a["output_id"] for a in exported["sessions"]["authorship"]} >= {lesson["id"], inside_only["id"]}
    assert [r["kind"] for r in exported["sessions"]["reflections"]] == ["perspective"]


def test_a_coordinator_who_creates_a_child_network_coordinates_it_and_staffs_its_sessions(stack, operator):
    tag = fresh_tag()
    regional = create_network(operator, f"Werkplaats {tag}", "regional", kind="werkplaats")
    karin = register(operator, "Karin Kwartiermaker", ["municipality_policy"])
    set_role(operator, regional["id"], karin["id"], "coordinator")
    with stack.client(token_for(operator, karin["id"])) as as_karin:
        child = ok(as_karin.post("/v1/networks", json={"name": f"Leerkring {tag}", "level": "local",
                                                       "kind": "learning_circle", "theme": "mantelzorg",
                                                       "parent_id": regional["id"]}), 201)
        assert child["id"] in ok(as_karin.get("/v1/whoami"), 200)["administers"]
        ok(as_karin.post(f"/v1/networks/{child['id']}/sessions", json=plan("Eerste bijeenkomst", 24 * 14)), 201)
    roles = {m["network_id"]: m["role"] for m in ok(operator.get(f"/v1/members/{karin['id']}"), 200)["memberships"]}
    assert roles == {regional["id"]: "coordinator", child["id"]: "coordinator"}


def test_a_participants_learning_loop_goes_round_through_the_admin_api_and_makes_step_4_measurable(network):
    first = ok(network.facilitator.post(f"/v1/networks/{network.id}/sessions", json=plan("Actieleren 1", -50)), 201)
    later = ok(network.facilitator.post(f"/v1/networks/{network.id}/sessions", json=plan("Actieleren 2", -3)), 201)
    for session in (first, later):
        ok(network.facilitator.post(f"/v1/sessions/{session['id']}/hold"))
    question = {"network_id": network.id, "question": "Hoe bereik ik wie nooit komt?",
                "urgency": "Juist zij vereenzamen"}
    loop = ok(network.henk.post("/v1/learning-questions", json=question), 201)
    path = f"/v1/learning-questions/{loop['id']}"
    assert network.operator.post("/v1/learning-questions", json=question).status_code == 403  # personal
    assert error(network.outsider.get(path)) == (403, "permission_denied", set())
    assert network.anouk.get(path).status_code == 403  # not shared with the network
    assert ok(network.facilitator.get(path))["question"] == question["question"]

    ok(network.henk.post(f"{path}/bring", json={"session_id": first["id"]}))
    too_late = network.henk.post(f"{path}/close", json={})
    assert error(too_late) == (409, "illegal_transition", {("status", "illegal_transition")})
    ok(network.henk.post(f"{path}/experiment", json={"session_id": first["id"], "experiment": "Thuis opzoeken",
                                                     "mandate": "asked"}))
    assert ok(network.facilitator.put(f"{path}/mandate", json={"mandate": "yes"}))["mandate"] == "yes"
    same = network.henk.post(f"{path}/follow-up", json={"session_id": first["id"], "what_happened": "x"})
    assert error(same) == (422, "validation_failed", {("session_id", "later_session")})
    ok(network.henk.post(f"{path}/follow-up", json={"session_id": later["id"], "what_happened": "Twee kwamen"}))
    output = ok(network.facilitator.post(f"/v1/sessions/{later['id']}/outputs", json={
        "kind": "lesson", "title": "Een bekend gezicht opent deuren", "authors": [network.ids["henk"]]}), 201)
    closed = ok(network.facilitator.post(f"{path}/close", json={"lesson": "Bekend gezicht", "output_id": output["id"]}))
    assert (closed["status"], closed["output_id"]) == ("closed", output["id"])

    mine = ok(network.henk.get(f"/v1/networks/{network.id}/learning-questions"))["items"]
    assert [lo["id"] for lo in mine] == [loop["id"]]
    report = ok(network.facilitator.get(f"/v1/networks/{network.id}/learning-report",
                                        headers={"Accept-Language": "en"}))
    assert (report["loops"]["opened"], report["loops"]["closed"], report["loops"]["closed_with_output"]) == (1, 1, 1)
    assert report["summary"][2] == "1 learning question opened, 1 loop closed (1 with an output)"
    assert network.ids["henk"] not in json.dumps(report)
    dutch = ok(network.facilitator.get(f"/v1/networks/{network.id}/learning-report"))
    assert dutch["summary"][2] == "1 leervraag ingebracht, 1 leercyclus rond (1 met een opbrengst)"

    health = f"/v1/networks/{network.id}/health"
    step4 = eventually(lambda: ok(network.coordinator.get(health), 200)["steps"][3],
                       "the loop's events reach the health report", accept=lambda s: s["status"] == "shown")
    assert step4["title"] == "Zorg voor doorwerking in de praktijk: mandaat om te experimenteren"
    assert step4["little_data"] is True
    assert step4["evidence"].startswith("in de afgelopen 12 maanden: 1 experiment in de praktijk, 1 met mandaat")
