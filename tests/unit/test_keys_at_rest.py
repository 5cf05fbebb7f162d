"""Peer API keys are encrypted at rest with KRING_FEDERATION_KEYS (Fernet): the first key encrypts, every key
decrypts, a rotation re-encrypts, a key stored before encryption still reads and is sealed by the migration or
``kring federation-keys reencrypt``; no key, or a removed one, is a clear error; no key is ever shown."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select, text, update

from services.chores import reencrypt_peer_keys
from services.common.config import Settings, get_settings
from services.common.db import create_service_engine
from services.common.errors import Unavailable
from services.common.keys_at_rest import KeysAtRest
from services.common.migrations import upgrade
from services.federation.models import peers as peers_table
from services.federation.peers import handlers as peers
from services.federation.peers.schemas import ConfigurePeer
from tests.support.callers import OPERATOR
from tests.unit.test_federation_world import World, open_world

OLD, NEW = KeysAtRest.new_key(), KeysAtRest.new_key()
SECRET = "kpk_the-key-the-peer-issued"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def configure(world: World, api_key: str = SECRET) -> None:
    world.networks("y")
    peers.configure_peer(OPERATOR, ConfigurePeer(instance_id="kring-a", name="Kring A", address="kring-a:50051",
                                                 api_key=api_key), world.uow, world.lookup)


def stored_key(world: World) -> str:
    with world.engine.connect() as connection:
        value: str = connection.execute(select(peers_table.c.api_key)).scalar_one()
        return value


def test_a_peer_key_is_stored_encrypted_and_read_back_for_the_relay(world: World):
    world.uow.peer_keys = KeysAtRest([OLD])
    configure(world)

    stored = stored_key(world)
    assert stored.startswith("fernet:") and SECRET not in stored
    assert [p.api_key for p in peers.relay_peers(world.uow)] == [SECRET]


def test_a_key_written_under_the_old_key_reads_under_the_new_list_and_reencrypts_under_the_first(world: World):
    world.uow.peer_keys = KeysAtRest([OLD])
    configure(world)
    under_old = stored_key(world)

    world.uow.peer_keys = KeysAtRest([NEW, OLD])  # rotation: the new key first, the old one still decrypts
    assert peers.peer_contact("kring-a", world.uow).api_key == SECRET
    with world.uow:
        assert world.uow.peers.reencrypt() == 1
        world.uow.commit()
    under_new = stored_key(world)
    assert under_new != under_old

    world.uow.peer_keys = KeysAtRest([NEW])  # the old key dropped: still readable
    assert peers.peer_contact("kring-a", world.uow).api_key == SECRET
    with world.uow:
        assert world.uow.peers.reencrypt() == 0  # nothing left under an older key


def test_dropping_a_key_before_reencrypting_is_a_clear_error_not_a_wrong_key(world: World):
    world.uow.peer_keys = KeysAtRest([OLD])
    configure(world)
    world.uow.peer_keys = KeysAtRest([NEW])

    with pytest.raises(Unavailable, match="none of the keys in KRING_FEDERATION_KEYS") as refused:
        peers.relay_peers(world.uow)
    assert refused.value.http_status == 503


def test_storing_a_peer_key_without_keys_configured_is_refused_naming_the_setting(world: World):
    world.uow.peer_keys = KeysAtRest([])
    with pytest.raises(Unavailable, match="KRING_FEDERATION_KEYS is not set"):
        configure(world)
    with world.engine.connect() as connection:
        assert connection.execute(text("select count(*) from peers")).scalar() == 0


def test_a_key_stored_before_encryption_still_reads_and_is_sealed_by_reencrypt(world: World):
    world.uow.peer_keys = KeysAtRest([OLD])
    configure(world)
    with world.engine.begin() as connection:  # as the 0004 schema held it
        connection.execute(update(peers_table).values(api_key=SECRET))

    assert peers.peer_contact("kring-a", world.uow).api_key == SECRET
    with world.uow:
        assert world.uow.peers.reencrypt() == 1
        world.uow.commit()
    assert stored_key(world).startswith("fernet:")
    assert peers.peer_contact("kring-a", world.uow).api_key == SECRET


@pytest.fixture
def federation_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """KRING_* of a federation database on SQLite in tmp_path, with only the variables each test sets."""
    for name in list(os.environ):
        if name.startswith("KRING_"):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'federation.db'}"
    monkeypatch.setenv("KRING_FEDERATION_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_the_migration_encrypts_keys_stored_in_plaintext_with_the_key_from_the_environment(
        federation_env: str, monkeypatch: pytest.MonkeyPatch):
    upgrade("federation", federation_env, "0004")
    engine = create_service_engine(federation_env, "federation")
    with engine.begin() as connection:
        connection.execute(text(
            "insert into peers (instance_id, name, address, api_key, config_revision, cursor, state, skipped, "
            "refused_entries, created_at, changed_at) values ('kring-a', 'A', 'a:1', :key, 1, 0, '{}', '[]', 0, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"key": SECRET})
    monkeypatch.setenv("KRING_FEDERATION_KEYS", OLD)
    upgrade("federation", federation_env)

    with engine.connect() as connection:
        stored = connection.execute(text("select api_key from peers")).scalar_one()
    engine.dispose()
    assert stored.startswith("fernet:") and SECRET not in stored
    assert KeysAtRest([OLD]).open(stored) == SECRET


def test_the_reencrypt_command_rewrites_every_key_under_the_first_and_says_how_many(
        federation_env: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KRING_FEDERATION_KEYS", OLD)
    upgrade("federation", federation_env)
    engine = create_service_engine(federation_env, "federation")
    with engine.begin() as connection:
        connection.execute(text(
            "insert into peers (instance_id, name, address, api_key, config_revision, cursor, state, skipped, "
            "refused_entries, created_at, changed_at) values ('kring-a', 'A', 'a:1', :key, 1, 0, '{}', '[]', 0, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"key": KeysAtRest([OLD]).seal(SECRET)})
    monkeypatch.setenv("KRING_FEDERATION_KEYS", f"{NEW},{OLD}")
    get_settings.cache_clear()
    said: list[str] = []

    assert reencrypt_peer_keys(get_settings(), said.append) == 0

    with engine.connect() as connection:
        stored = connection.execute(text("select api_key from peers")).scalar_one()
    engine.dispose()
    assert KeysAtRest([NEW]).open(stored) == SECRET
    assert said == [f"re-encrypted 1 peer key(s) under the first key ({federation_env})"]
    assert SECRET not in " ".join(said) and NEW not in " ".join(said)


def test_a_malformed_key_in_the_setting_is_refused_at_start_by_position_without_showing_it(
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KRING_FEDERATION_KEYS", f"{NEW},not-a-fernet-key-at-all")
    with pytest.raises(ValidationError, match="key 2 of 2 is not a Fernet key") as refused:
        Settings()
    assert "not-a-fernet-key-at-all" not in str(refused.value).split("input_value")[0]


def test_the_keys_are_never_shown_by_the_settings_or_the_key_ring():
    keys = KeysAtRest([NEW, OLD])
    settings = Settings(federation_keys=f"{NEW},{OLD}")
    assert NEW not in repr(keys) and NEW not in repr(settings) and NEW not in str(settings.model_dump())
