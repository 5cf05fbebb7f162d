"""Loading the session plan (:mod:`services.demo.plan`) through the admin API.

Loading converges rather than replays: a session is found by its title in its network and only the steps it
is missing are taken, so loading again changes nothing. Closing is a session's last step, so a closed session
is complete; an output is found by its title in its session (a retracted one by its tombstone). Reflections
are personal, so the operator cannot record them: each reflecting member gets a short-lived token, which is
revoked once their reflections are in; what a member already reflected on is read from their export. Learning
questions likewise: the member opens theirs, found again by its words in their export; the operator (as the
network's staff) takes each loop the steps it is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import httpx

from services.common.vocabulary import SessionStatus
from services.demo.http import all_pages, expect
from services.demo.plan import RESCHEDULE_REASON, RETRACT_REASON, LoopSpec, ReflectionSpec, SessionSpec

PLANNED, HELD, CLOSED, CANCELLED = (SessionStatus.PLANNED, SessionStatus.HELD, SessionStatus.CLOSED,
                                    SessionStatus.CANCELLED)
REFLECTION_TOKEN_LABEL = "demo: reflections"  # noqa: S105 - a label


@dataclass
class Tally:
    """What loading sessions found and did (added up across networks)."""

    sessions: int = 0
    sessions_new: int = 0
    registrations: int = 0
    outputs: int = 0
    retracted: int = 0
    reflections: int = 0
    loops: int = 0

    def __iadd__(self, other: Tally) -> Tally:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


def existing_sessions(client: httpx.Client, network_id: str) -> dict[str, dict[str, Any]]:
    """The network's sessions by title."""
    return {s["title"]: s for s in all_pages(client, f"/v1/networks/{network_id}/sessions", {}, 200)}


def load_session(client: httpx.Client, network_id: str, spec: SessionSpec, session: dict[str, Any] | None,
                 member_ids: dict[str, str]) -> tuple[str, Tally]:
    """Bring one session (``None``: not scheduled yet) to its plan; returns its id and what was done."""
    tally = Tally(sessions=1)
    fresh = session is None
    if session is None:
        session = expect(client.post(f"/v1/networks/{network_id}/sessions", json=spec.scheduling(member_ids)),
                         f"schedule {spec.title}", 201)
        tally.sessions_new += 1
    _converge(client, spec, session, member_ids, tally, fresh)
    return session["id"], tally


def _converge(client: httpx.Client, spec: SessionSpec, session: dict[str, Any], member_ids: dict[str, str],
              tally: Tally, fresh: bool) -> None:
    path, status = f"/v1/sessions/{session['id']}", SessionStatus(session["status"])
    if spec.moved_from and status == PLANNED and not session["reschedules"]:
        expect(client.post(f"{path}/reschedule", json={"starts_at": spec.starts_at.isoformat(),
                                                       "ends_at": spec.ends_at.isoformat(),
                                                       "reason": RESCHEDULE_REASON}), "reschedule", 200)
    if spec.fate == PLANNED:
        if status == PLANNED and not session["registered_count"] + session["waitlisted_count"]:
            for member, prepared in spec.registrations:
                body = {"member_id": member_ids[member]} | ({} if prepared is None else {"prepared": prepared})
                expect(client.post(f"{path}/registrations", json=body), "register", 201)
                tally.registrations += 1
    elif spec.fate == CANCELLED:
        if status == PLANNED:
            expect(client.post(f"{path}/cancel", json={"reason": spec.cancel_reason}), "cancel", 200)
    elif status != CLOSED:  # held, or to be held: a closed session is complete
        if status == PLANNED:
            session = expect(client.post(f"{path}/hold"), f"hold {spec.title}", 200)
        if session["attendee_count"] is None:
            expect(client.put(f"{path}/attendance", json={"member_ids": [member_ids[m] for m in spec.attendees]}),
                   "record attendance", 200)
        _publish_outputs(client, spec, path, member_ids, tally, fresh)
        if spec.fate == CLOSED:
            expect(client.post(f"{path}/close"), f"close {spec.title}", 200)


def _publish_outputs(client: httpx.Client, spec: SessionSpec, path: str, member_ids: dict[str, str],
                     tally: Tally, fresh: bool) -> None:
    published = list(all_pages(client, f"{path}/outputs", {}, 200)) if spec.outputs and not fresh else []
    titles = {o["title"] for o in published if "title" in o}
    tombstones = sum(1 for o in published if "title" not in o)
    for output in spec.outputs:
        if output.title in titles:
            continue
        if output.retract and tombstones:
            tombstones -= 1
            continue
        made = expect(client.post(f"{path}/outputs", json=output.publication(member_ids)), "publish output", 201)
        tally.outputs += 1
        if output.retract:
            expect(client.post(f"/v1/outputs/{made['id']}/retract", json={"reason": RETRACT_REASON}), "retract", 200)
            tally.retracted += 1


def load_reflections(client: httpx.Client, member_id: str, reflections: list[tuple[str, ReflectionSpec]]) -> int:
    """Record one member's reflections (``(session id, spec)``) that are not in their export yet."""
    export = expect(client.get(f"/v1/members/{member_id}/export"), "export member", 200)
    done = {(r["session_id"], r["kind"]) for r in export["sessions"]["reflections"]}
    todo = [(session_id, spec) for session_id, spec in reflections if (session_id, str(spec.kind)) not in done]
    if not todo:
        return 0
    issued = expect(client.post(f"/v1/members/{member_id}/tokens", json={"label": REFLECTION_TOKEN_LABEL}),
                    "issue a token", 201)
    try:
        as_member = {"Authorization": f"Bearer {issued['token']}"}
        for session_id, spec in todo:
            body = {"session_id": session_id, "kind": str(spec.kind), "text": spec.text}
            expect(client.post("/v1/reflections", json=body, headers=as_member), "record reflection", 201)
    finally:
        expect(client.delete(f"/v1/tokens/{issued['token_id']}"), "revoke the reflections token", 204)
    return len(todo)


LOOP_TOKEN_LABEL = "demo: learning questions"  # noqa: S105 - a label


def load_loops(client: httpx.Client, member_id: str, network_id: str, loops: list[LoopSpec],
               session_ids: dict[int, str]) -> int:
    """Open one member's learning questions that are not in their export yet (as the member: a question is their
    own), then take each loop the steps it is missing (as the operator, as the network's staff would). Returns the
    number of questions opened."""
    export = expect(client.get(f"/v1/members/{member_id}/export"), "export member", 200)
    found = {lo["question"]: lo for lo in export["sessions"].get("learning_loops", [])
             if lo["network_id"] == network_id}
    todo = [spec for spec in loops if spec.question not in found]
    if todo:
        issued = expect(client.post(f"/v1/members/{member_id}/tokens", json={"label": LOOP_TOKEN_LABEL}),
                        "issue a token", 201)
        try:
            as_member = {"Authorization": f"Bearer {issued['token']}"}
            for spec in todo:
                body = {"network_id": network_id, "question": spec.question, "shared_with_network": spec.shared}
                body |= {"urgency": spec.urgency} if spec.urgency else {}
                found[spec.question] = expect(client.post("/v1/learning-questions", json=body, headers=as_member),
                                              "open a learning question", 201)
        finally:
            expect(client.delete(f"/v1/tokens/{issued['token_id']}"), "revoke the learning questions token", 204)
    for spec in loops:
        _converge_loop(client, spec, found[spec.question], session_ids)
    return len(todo)


def _converge_loop(client: httpx.Client, spec: LoopSpec, loop: dict[str, Any], session_ids: dict[int, str]) -> None:
    path, status = f"/v1/learning-questions/{loop['id']}", loop["status"]
    steps = ["open", "brought", "experimenting", "followed_up", "closed"]
    reached = steps.index(status)
    if spec.brought_to is not None and reached < 1:
        expect(client.post(f"{path}/bring", json={"session_id": session_ids[spec.brought_to]}), "bring", 200)
    if spec.brought_to is not None and spec.mandate and reached < 2:
        expect(client.post(f"{path}/experiment", json={"session_id": session_ids[spec.brought_to],
                                                        "experiment": spec.experiment, "mandate": spec.mandate}),
               "record an experiment", 200)
    if spec.follow_up_at is not None and reached < 3:
        expect(client.post(f"{path}/follow-up", json={"session_id": session_ids[spec.follow_up_at],
                                                       "what_happened": spec.what_happened}), "follow up", 200)
    if spec.lesson and reached < 4:  # closed with what it produced: a live output of one of its sessions
        outputs = [o for number in (spec.follow_up_at, spec.brought_to) if number is not None
                   for o in all_pages(client, f"/v1/sessions/{session_ids[number]}/outputs", {}, 200) if "title" in o]
        body = {"lesson": spec.lesson} | ({"output_id": outputs[0]["id"]} if outputs else {})
        expect(client.post(f"{path}/close", json=body), "close the loop", 200)
