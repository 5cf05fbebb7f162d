"""Erasure: replace a member's id with a pseudonym wherever the sessions service holds it."""

from __future__ import annotations

from sqlalchemy import Connection, update

from services.sessions.models import (
    attendance,
    contributions,
    learning_loops,
    output_authors,
    reflections,
    registrations,
)


class PrivacyRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def pseudonymise(self, member_id: str, pseudonym: str) -> None:
        """Rows keep counting (a registration, an attendance, an author, a reflection's kind) but point at
        nobody; reflection texts and a learning loop's words are deleted because they are the member's own."""
        for table in (registrations, attendance, contributions, output_authors):
            self.connection.execute(update(table).where(table.c.member_id == member_id).values(member_id=pseudonym))
        self.connection.execute(
            update(reflections).where(reflections.c.member_id == member_id).values(member_id=pseudonym, text=None)
        )
        self.connection.execute(
            update(learning_loops).where(learning_loops.c.owner_id == member_id)
            .values(owner_id=pseudonym, question=None, urgency=None, experiment=None, follow_up=None, lesson=None)
        )
