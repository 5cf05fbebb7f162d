"""Fixtures shared by the unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from services.common.db import create_service_engine
from tests.support.databases import migrated_database


@pytest.fixture
def migrated_engine(tmp_path: Path) -> Iterator[Callable[[str], Engine]]:
    """Opens an engine on a fresh SQLite database with a service's migrated schema: ``migrated_engine("members")``.

    Each engine is disposed of when the test ends.
    """
    engines: list[Engine] = []

    def open_engine(service: str) -> Engine:
        engine = create_service_engine(migrated_database(service, tmp_path), service)
        engines.append(engine)
        return engine

    yield open_engine
    for engine in engines:
        engine.dispose()
