"""Read models fed by events from the members and sessions services.

Every projection is safe against redelivery (the handler's processed-event check) and against
reordering: a change is applied only if its revision is newer than what the row holds, and removals
leave tombstones that keep their revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update

from services.common.catalogue import (
    LearningLoopSnapshot,
    MemberErased,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
    OutputPublished,
    OutputRetracted,
    ReflectionRecorded,
    SessionSnapshot,
)
from services.common.db import insert_if_absent, insert_or_lock
from services.common.vocabulary import (
    Mandate,
    MembershipRole,
    OutputKind,
    Perspective,
    SessionStatus,
    Visibility,
)
from services.networks.domain.health import LoopFacts, MemberFacts, OutputFacts, SessionFacts
from services.networks.models import (
    erased_members,
    loop_facts,
    member_profiles,
    network_members,
    output_facts,
    reflection_facts,
    session_facts,
)

HELD = (SessionStatus.HELD.value, SessionStatus.CLOSED.value)


class ReadModels:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # --- memberships ------------------------------------------------------------------------------------

    def membership_joined(self, event: MembershipJoined) -> None:
        if self._erased_since(event.member_id, event.revision):
            return
        key = {"network_id": event.network_id, "member_id": event.member_id}
        perspectives, perspectives_revision = [p.value for p in event.perspectives], event.revision
        profile = self._profile(event.member_id)
        if profile is not None and profile.revision > event.revision:
            perspectives, perspectives_revision = profile.perspectives, profile.revision
        row = insert_or_lock(self.connection, network_members, {
            **key, "role": event.role.value, "active": True, "revision": event.revision,
            "perspectives": perspectives, "perspectives_revision": perspectives_revision})
        if row is not None and row.revision < event.revision:
            values: dict[str, object] = {"role": event.role.value, "active": True, "revision": event.revision}
            if row.perspectives_revision < perspectives_revision:
                values.update(perspectives=perspectives, perspectives_revision=perspectives_revision)
            self.connection.execute(update(network_members).filter_by(**key).values(**values))

    def membership_left(self, event: MembershipLeft) -> None:
        key = {"network_id": event.network_id, "member_id": event.member_id}
        row = insert_or_lock(self.connection, network_members, {
            **key, "role": MembershipRole.PARTICIPANT.value, "active": False, "revision": event.revision,
            "perspectives": [], "perspectives_revision": event.revision})
        if row is not None and row.revision < event.revision:
            self.connection.execute(update(network_members).filter_by(**key)
                                    .values(active=False, revision=event.revision))

    def member_updated(self, event: MemberUpdated) -> None:
        perspectives = [p.value for p in event.perspectives]
        profile = insert_or_lock(self.connection, member_profiles, {
            "member_id": event.member_id, "perspectives": perspectives, "revision": event.revision})
        if profile is not None and profile.revision < event.revision:
            self.connection.execute(update(member_profiles).where(member_profiles.c.member_id == event.member_id)
                                    .values(perspectives=perspectives, revision=event.revision))
        self.connection.execute(
            update(network_members)
            .where(network_members.c.member_id == event.member_id,
                   network_members.c.perspectives_revision < event.revision)
            .values(perspectives=[p.value for p in event.perspectives], perspectives_revision=event.revision)
        )

    def member_erased(self, event: MemberErased) -> None:
        if not insert_if_absent(self.connection, erased_members, {"member_id": event.member_id,
                                                                   "revision": event.revision}):
            return  # erased before
        self.connection.execute(delete(member_profiles).where(member_profiles.c.member_id == event.member_id))
        self.connection.execute(
            update(network_members).where(network_members.c.member_id == event.member_id)
            .values(active=False, perspectives=[], revision=event.revision, perspectives_revision=event.revision)
        )

    def members_of(self, network_id: str) -> list[MemberFacts]:
        rows = self.connection.execute(
            select(network_members).where(network_members.c.network_id == network_id, network_members.c.active)
        )
        return [MemberFacts(r.member_id, MembershipRole(r.role), tuple(Perspective(p) for p in r.perspectives))
                for r in rows]

    def members_of_many(self, network_ids: Sequence[str]) -> dict[str, list[MemberFacts]]:
        found: dict[str, list[MemberFacts]] = {network_id: [] for network_id in network_ids}
        if not found:
            return found
        rows = self.connection.execute(
            select(network_members).where(network_members.c.network_id.in_(list(found)), network_members.c.active)
        )
        for r in rows:
            found[r.network_id].append(
                MemberFacts(r.member_id, MembershipRole(r.role), tuple(Perspective(p) for p in r.perspectives)))
        return found

    def _profile(self, member_id: str) -> Row[*tuple[Any, ...]] | None:
        """The newest perspectives the member's profile events carried, with their revision."""
        return self.connection.execute(
            select(member_profiles).where(member_profiles.c.member_id == member_id)
        ).first()

    def _erased_since(self, member_id: str, revision: int) -> bool:
        erased_at: int | None = self.connection.execute(
            select(erased_members.c.revision).where(erased_members.c.member_id == member_id)
        ).scalar()
        return erased_at is not None and erased_at >= revision

    # --- sessions, outputs, reflections ------------------------------------------------------------------

    def session_changed(self, event: SessionSnapshot) -> None:
        values = {"network_id": event.network_id, "status": event.status.value, "starts_at": event.starts_at,
                  "contributor_ids": event.contributor_ids, "revision": event.revision}
        current = insert_or_lock(self.connection, session_facts, {"session_id": event.session_id, **values})
        if current is not None and current.revision < event.revision:
            self.connection.execute(update(session_facts).where(session_facts.c.session_id == event.session_id)
                                    .values(**values))

    def held_sessions(self, network_id: str) -> list[SessionFacts]:
        rows = self.connection.execute(
            select(session_facts).where(session_facts.c.network_id == network_id, session_facts.c.status.in_(HELD))
        )
        return [SessionFacts(r.starts_at, tuple(r.contributor_ids), r.session_id) for r in rows]

    def output_published(self, event: OutputPublished) -> None:
        # Known already: a duplicate, or retracted before it arrived (the tombstone wins).
        insert_if_absent(self.connection, output_facts, {
            "output_id": event.output_id, "network_id": event.network_id, "kind": event.kind.value,
            "visibility": event.visibility.value, "retracted": False})

    def output_retracted(self, event: OutputRetracted) -> None:
        if insert_or_lock(self.connection, output_facts, {"output_id": event.output_id, "network_id": event.network_id,
                                                          "kind": None, "visibility": None, "retracted": True}):
            self.connection.execute(update(output_facts).where(output_facts.c.output_id == event.output_id)
                                    .values(retracted=True))

    def live_outputs(self, network_id: str) -> list[OutputFacts]:
        rows = self.connection.execute(
            select(output_facts).where(output_facts.c.network_id == network_id, output_facts.c.retracted.is_(False))
        )
        return [OutputFacts(OutputKind(r.kind), Visibility(r.visibility)) for r in rows]

    def reflection_recorded(self, event: ReflectionRecorded) -> None:
        insert_if_absent(self.connection, reflection_facts, {
            "reflection_id": event.reflection_id, "network_id": event.network_id, "kind": event.kind.value,
            "recorded_at": event.recorded_at})

    def reflection_count(self, network_id: str) -> int:
        return self.connection.execute(
            select(func.count()).select_from(reflection_facts).where(reflection_facts.c.network_id == network_id)
        ).scalar_one()

    # --- the members' action-learning loops (no words, no owners) ------------------------------------------

    def loop_changed(self, event: LearningLoopSnapshot) -> None:
        values = {"network_id": event.network_id, "revision": event.revision, "status": event.status.value,
                  "owner_role": event.owner_role.value, "urgency_stated": event.urgency_stated,
                  "opened_at": event.opened_at, "brought_to_session_id": event.brought_to_session_id,
                  "experiment_at": event.experiment_at, "mandate": event.mandate.value if event.mandate else None,
                  "followed_up_at": event.followed_up_at, "closed_at": event.closed_at, "output_id": event.output_id}
        current = insert_or_lock(self.connection, loop_facts, {"loop_id": event.loop_id, **values})
        if current is not None and current.revision < event.revision:
            self.connection.execute(update(loop_facts).where(loop_facts.c.loop_id == event.loop_id).values(**values))

    def loops_of(self, network_id: str) -> list[LoopFacts]:
        rows = self.connection.execute(select(loop_facts).where(loop_facts.c.network_id == network_id))
        return [LoopFacts(MembershipRole(r.owner_role), r.urgency_stated, r.opened_at, r.brought_to_session_id,
                          r.experiment_at, Mandate(r.mandate) if r.mandate else None, r.followed_up_at, r.closed_at,
                          r.output_id)
                for r in rows]

