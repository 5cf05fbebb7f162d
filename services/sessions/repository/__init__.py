"""Loading and saving the sessions service's aggregates and read models (SQLAlchemy Core on the unit of
work's connection)."""

from services.sessions.repository.outputs import OutputRepository, ReflectionRepository
from services.sessions.repository.privacy import PrivacyRepository
from services.sessions.repository.readmodels import ReadModelRepository
from services.sessions.repository.sessions import SessionRepository

__all__ = ["OutputRepository", "PrivacyRepository", "ReadModelRepository", "ReflectionRepository",
           "SessionRepository"]
