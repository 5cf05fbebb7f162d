"""Attribution reaches every copy, on real RabbitMQ and PostgreSQL with the members, networks, sessions and
federation services all_services: a consenting author is named in a linked network's feed; when they withdraw
consent the copy shows their role; when they are erased, "a former member". The federation service hears of
an erasure twice (member.erased from the members service, output.attribution_changed from the sessions
service): whichever comes first, and however often either comes, the copy ends the same."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import eventlet

from services.common.catalogue import (
    Attribution,
    MemberErased,
    NetworkSnapshot,
    OutputAttributionChanged,
    OutputPublished,
)
from services.common.db import create_service_engine
from services.common.events import Envelope, new_envelope
from services.common.migrations import upgrade
from services.common.outbox import ConfirmingPublisher, OutgoingMessage
from services.common.uow import apply_once
from services.federation.handlers import links, sharing
from services.federation.unit_of_work import FederationUnitOfWork
from services.sessions.domain.outputs import FORMER_MEMBER
from tests.support.callers import OPERATOR_WIRE
from tests.support.waiting import eventually

LIVED = "a participant with lived experience"


def send(amqp_uri: str, *envelopes: tuple[str, Envelope]) -> None:
    """Put envelopes on the bus as their producers would (the same envelope twice is a redelivery)."""
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        publisher.publish(OutgoingMessage(f"{producer}.events", envelope.type, envelope.to_wire(), {})
                          for producer, envelope in envelopes)
    finally:
        publisher.close()


def linked_pair(rpc) -> tuple[dict, dict]:
    region = rpc.networks.create_network(OPERATOR_WIRE, {"name": "Werkplaats Utrecht", "level": "regional",
                                                         "kind": "werkplaats",
                                                         "theme": "eenzaamheid"})
    wijk = rpc.networks.create_network(OPERATOR_WIRE, {"name": "Overvecht", "level": "neighbourhood",
                                                       "kind": "learning_circle",
                                                       "theme": "eenzaamheid", "parent_id": region["id"]})
    eventually(lambda: rpc.federation.list_links(OPERATOR_WIRE, wijk["id"], "active"), what="the parent/child link")
    return region, wijk


def copy_in(rpc, network: dict, output_id: str) -> dict | None:
    for item in rpc.federation.feed(OPERATOR_WIRE, {"network_id": network["id"]})["items"]:
        if item["output"]["output_id"] == output_id:
            return item["output"]
    return None


def authors_in(rpc, network: dict, output_id: str) -> list[tuple[str, bool]] | None:
    copy = copy_in(rpc, network, output_id)
    return [(a["shown_as"], a["named"]) for a in copy["authors"]] if copy else None


def test_consent_withdrawal_and_erasure_reach_the_copy_in_a_linked_network(all_services):
    rpc = all_services
    region, wijk = linked_pair(rpc)
    fatima = rpc.members.register_member(OPERATOR_WIRE, {"name": "Fatima el Amrani", "email": "fatima@example.org",
                                                         "perspectives": ["lived_experience"],
                                                         "named_in_shared_outputs": True})
    rpc.members.join_network(OPERATOR_WIRE, fatima["id"], wijk["id"], {"role": "facilitator"})
    now = datetime.now(UTC)
    session = rpc.sessions.schedule_session(OPERATOR_WIRE, {
        "network_id": wijk["id"], "title": "Leersessie eenzaamheid", "format": "learning_session",
        "mode": "in_person", "location": "Buurthuis", "starts_at": (now - timedelta(hours=3)).isoformat(),
        "ends_at": (now - timedelta(hours=1)).isoformat()})
    rpc.sessions.hold_session(OPERATOR_WIRE, session["id"])
    output = rpc.sessions.publish_output(OPERATOR_WIRE, session["id"], {"kind": "lesson", "title": "Vraag door",
                                                                        "body": "...",
                                                                        "authors": [fatima["id"]],
                                                                        "visibility": "linked"})

    assert eventually(lambda: authors_in(rpc, region, output["id"]), what="the shared copy") == [
        ("Fatima el Amrani", True)]

    rpc.members.update_member(OPERATOR_WIRE, fatima["id"], {"named_in_shared_outputs": False})
    eventually(lambda: authors_in(rpc, region, output["id"]) == [(LIVED, False)], what="the role in the copy")

    rpc.members.erase_member(OPERATOR_WIRE, fatima["id"])
    eventually(lambda: authors_in(rpc, region, output["id"]) == [(FORMER_MEMBER, False)], what="a former member")

    # Both paths have run by now: the copy stays as it is, and nothing the stream carries names her or her id.
    eventually(lambda: len(updates(rpc, region)) >= 3, what="the updates in the log")
    copy = copy_in(rpc, region, output["id"])
    assert copy["authors"] == [{"shown_as": FORMER_MEMBER, "named": False, "role": "former_member"}]
    log = rpc.federation.log_after(OPERATOR_WIRE, {"cursor": 0, "network_ids": [region["id"]]})
    shown = [e["output"]["authors"] for e in log["entries"] if e["output"]["output_id"] == output["id"]]
    assert shown[0] == [{"shown_as": FORMER_MEMBER, "named": False}]  # the log shows each copy as it is now
    everything = json.dumps([log, rpc.federation.feed(OPERATOR_WIRE, {"network_id": region["id"]})])
    assert "Fatima" not in everything and fatima["id"] not in everything


def test_erasure_and_the_attribution_change_agree_whichever_arrives_first_and_however_often(
    all_services, all_services_config
):
    rpc = all_services
    region, wijk = linked_pair(rpc)
    now = datetime.now(UTC)

    def published(member_id: str) -> OutputPublished:
        return OutputPublished(
            output_id=str(uuid.uuid4()), session_id=str(uuid.uuid4()), network_id=wijk["id"], kind="lesson",
            title="t", body="b", url=None, resource_type=None, themes=[], visibility="linked", licence="CC-BY-4.0",
            authors=[Attribution(member_id=member_id, shown_as="Jan Jansen", named=True),
                     Attribution(member_id="m-bram", shown_as="a practitioner", named=False)],
            published_at=now)

    def after_erasure(output: OutputPublished) -> Envelope:
        """What the sessions service announces once it has pseudonymised the member."""
        return new_envelope(OutputAttributionChanged(
            output_id=output.output_id, network_id=wijk["id"], changed_at=datetime.now(UTC),
            authors=[Attribution(member_id=f"erased-{uuid.uuid4()}", shown_as=FORMER_MEMBER, named=False),
                     Attribution(member_id="m-bram", shown_as="a practitioner", named=False)]), producer="sessions")

    jan, piet = f"m-jan-{uuid.uuid4().hex[:6]}", f"m-piet-{uuid.uuid4().hex[:6]}"
    erasure_first, change_first = published(jan), published(piet)
    send(all_services_config["AMQP_URI"], *[("sessions", new_envelope(o, producer="sessions"))
                               for o in (erasure_first, change_first)])
    eventually(lambda: all(copy_in(rpc, region, o.output_id) for o in (erasure_first, change_first)),
               what="both copies")

    erased_jan = new_envelope(MemberErased(member_id=jan, revision=3), producer="members")
    send(all_services_config["AMQP_URI"], ("members", erased_jan))
    eventually(lambda: authors_in(rpc, region, erasure_first.output_id)[0] == (FORMER_MEMBER, False),
               what="the erasure of the first author")
    changed_first = after_erasure(erasure_first)
    send(all_services_config["AMQP_URI"], ("sessions", changed_first))

    changed_second = after_erasure(change_first)
    send(all_services_config["AMQP_URI"], ("sessions", changed_second))
    eventually(lambda: authors_in(rpc, region, change_first.output_id)[0] == (FORMER_MEMBER, False),
               what="the attribution change of the second")
    erased_piet = new_envelope(MemberErased(member_id=piet, revision=3), producer="members")
    send(all_services_config["AMQP_URI"], ("members", erased_piet))

    ours = {erasure_first.output_id, change_first.output_id}
    eventually(lambda: len(updates(rpc, region, ours)) >= 3, what="the updates in the log")
    for output in (erasure_first, change_first):
        assert authors_in(rpc, region, output.output_id) == [(FORMER_MEMBER, False), ("a practitioner", False)]

    # Every one of them again, under the same envelopes and under new ones: nothing changes. Sentinels behind
    # them on the same queues tell when they have been handled.
    settled = updates(rpc, region, ours)
    before = rpc.federation.feed(OPERATOR_WIRE, {"network_id": region["id"]})
    sentinel = published("m-sentinel")
    send(all_services_config["AMQP_URI"], ("sessions", new_envelope(sentinel, producer="sessions")))
    eventually(lambda: copy_in(rpc, region, sentinel.output_id), what="the sentinel output")
    # One queue at a time, so that the sentinels do not race each other on the same copy.
    send(all_services_config["AMQP_URI"], ("sessions", changed_first), ("sessions", changed_second),
         ("sessions", new_envelope(OutputAttributionChanged(
             output_id=sentinel.output_id, network_id=wijk["id"], changed_at=datetime.now(UTC),
             authors=[Attribution(member_id="m-sentinel", shown_as="a volunteer", named=False),
                      Attribution(member_id="m-bram", shown_as="a practitioner", named=False)]),
             producer="sessions")))
    eventually(lambda: authors_in(rpc, region, sentinel.output_id)[0] == ("a volunteer", False),
               what="the sentinel attribution change")
    send(all_services_config["AMQP_URI"], ("members", erased_jan), ("members", erased_piet),
         ("members", new_envelope(MemberErased(member_id=jan, revision=3), producer="members")),
         ("members", new_envelope(MemberErased(member_id="m-bram", revision=3), producer="members")))
    eventually(lambda: authors_in(rpc, region, sentinel.output_id)[1] == (FORMER_MEMBER, False),
               what="the sentinel erasure")
    after = rpc.federation.feed(OPERATOR_WIRE, {"network_id": region["id"]})
    assert [i["output"]["output_id"] for i in after["items"]][:2] == [i["output"]["output_id"]
                                                                       for i in before["items"]]
    # Only the sentinel erasure of the co-author added updates: one per output. The replays added none.
    assert len(updates(rpc, region, ours)) == len(settled) + 2
    assert jan not in json.dumps(after) and piet not in json.dumps(after)


def updates(rpc, network: dict, output_ids: set[str] | None = None) -> list[dict]:
    log = rpc.federation.log_after(OPERATOR_WIRE, {"cursor": 0, "network_ids": [network["id"]]})
    return [e for e in log["entries"]
            if e["kind"] == "updated" and (output_ids is None or e["output"]["output_id"] in output_ids)]


class PausingUnitOfWork(FederationUnitOfWork):
    """Runs ``pause`` once, just before the handler's first write to an output: where another worker may
    slip in between what this one read and what it writes."""

    pause = None

    def start(self, connection) -> None:
        super().start(connection)
        save = self.outputs.save

        def save_after_pause(output) -> None:
            if self.pause is not None:
                pause, self.pause = self.pause, None
                pause()
            save(output)

        self.outputs.save = save_after_pause


def test_an_erasure_and_an_attribution_change_handled_at_once_lose_neither(pg_url):
    """Both paths fire on the same copies at about the same time; on PostgreSQL (read committed) a handler
    that writes back what it read without locking it overwrites the other's change. Here the co-author Bram is
    erased while Fatima's withdrawal of consent is applied: her withdrawal must survive. FAILS today:
    on_member_erased reads the copy without a row lock and writes Fatima's name back (see the report)."""
    upgrade("federation", pg_url)
    engine = create_service_engine(pg_url, "federation")
    try:
        uow = FederationUnitOfWork(engine, producer="federation")
        for network_id, parent in (("region", None), ("wijk", "region")):
            snapshot = NetworkSnapshot(
                network_id=network_id, revision=1, name=network_id, level="regional", kind="werkplaats",
                theme="eenzaamheid", urgency=None, host_organisation=None, parent_id=parent, region=None,
                cadence_weeks=None, start_date=None, requires_preparation=False, unprepared_policy="flag",
                status="active")
            apply_once(uow, uuid.uuid4(), "federation.on_network_created",
                       lambda u, s=snapshot: links.on_network_changed(s, u))
        named = [Attribution(member_id="m-fatima", shown_as="Fatima el Amrani", named=True),
                 Attribution(member_id="m-bram", shown_as="Bram Bakker", named=True)]
        output = OutputPublished(output_id="o-1", session_id="s-1", network_id="wijk", kind="lesson", title="t",
                                 body="b", url=None, resource_type=None, themes=[], visibility="linked",
                                 licence="CC-BY-4.0", authors=named, published_at=datetime.now(UTC))
        apply_once(uow, uuid.uuid4(), "federation.on_output_published",
                   lambda u: sharing.on_output_published(output, u))

        withdrawn = OutputAttributionChanged(output_id="o-1", network_id="wijk", changed_at=datetime.now(UTC),
                                             authors=[Attribution(member_id="m-fatima", shown_as=LIVED, named=False),
                                                      named[1]])
        others: list[eventlet.greenthread.GreenThread] = []

        def the_other_worker() -> None:
            other = eventlet.spawn(apply_once, FederationUnitOfWork(engine, producer="federation"), uuid.uuid4(),
                                   "federation.on_output_attribution_changed",
                                   lambda u: sharing.on_attribution_changed(withdrawn, u))
            others.append(other)
            with eventlet.Timeout(2, False):  # it finishes, or waits for a lock this worker holds
                other.wait()

        eraser = PausingUnitOfWork(engine, producer="federation")
        eraser.pause = the_other_worker
        erased = MemberErased(member_id="m-bram", revision=2)
        apply_once(eraser, uuid.uuid4(), "federation.on_member_erased", lambda u: sharing.on_member_erased(erased, u))
        others[0].wait()

        with uow:
            copy = uow.outputs.get("o-1").copy
        assert copy["authors"][0] == {"shown_as": LIVED, "named": False}
        assert "Fatima" not in json.dumps(copy)
    finally:
        engine.dispose()
