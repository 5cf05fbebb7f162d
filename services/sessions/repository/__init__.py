"""Loading and saving the sessions service's aggregates (SQLAlchemy Core on the unit of work's connection); the
read models are in :mod:`services.sessions.read_models`."""

from services.sessions.repository.loops import LearningLoopRepository
from services.sessions.repository.outputs import OutputRepository, ReflectionRepository
from services.sessions.repository.privacy import PrivacyRepository
from services.sessions.repository.sessions import SessionRepository

__all__ = [
    "LearningLoopRepository",
    "OutputRepository",
    "PrivacyRepository",
    "ReflectionRepository",
    "SessionRepository",
]
