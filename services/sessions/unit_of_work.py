"""The sessions service's SQL unit of work: the kit's transaction and outbox, with this service's repositories.

It satisfies :class:`services.sessions.ports.SessionsUoW`, the Protocol the handlers take, without inheriting
from it: the checker proves so wherever the service passes ``self.uow()`` to a handler.
"""

from __future__ import annotations

from sqlalchemy import Connection

from services.common.uow import SqlUnitOfWork
from services.sessions import models
from services.sessions.read_models import SessionsReadModels
from services.sessions.repository import (
    LearningLoopRepository,
    OutputRepository,
    PrivacyRepository,
    ReflectionRepository,
    SessionRepository,
)


class SessionsUnitOfWork(SqlUnitOfWork):
    outbox = models.outbox
    processed = models.processed_events
    commands = models.processed_commands
    repositories = ("sessions", "outputs", "reflections", "loops")  # the aggregates whose events are collected

    sessions: SessionRepository
    outputs: OutputRepository
    reflections: ReflectionRepository
    loops: LearningLoopRepository
    read_models: SessionsReadModels
    privacy: PrivacyRepository

    def start(self, connection: Connection) -> None:
        self.sessions = SessionRepository(connection)
        self.outputs = OutputRepository(connection)
        self.reflections = ReflectionRepository(connection)
        self.loops = LearningLoopRepository(connection)
        self.read_models = SessionsReadModels(connection)
        self.privacy = PrivacyRepository(connection)
