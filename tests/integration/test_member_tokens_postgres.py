"""Member tokens on PostgreSQL, as migrated: migration 0006 keeps the tokens issued before it working, without
expiry, as the operator's; a sign-in's token works until its ``expires_at`` and not a moment after; revoking one's
own token ends it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text, update

from services.common.db import create_service_engine
from services.common.errors import PermissionDenied, Unauthenticated
from services.common.migrations import upgrade
from services.members import handlers, models
from services.members.schemas import RegisterMember, SignIn
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR, member


def uow_on(engine: Engine) -> MembersUnitOfWork:
    return MembersUnitOfWork(engine, producer="members")


def register(engine: Engine, email: str) -> str:
    request = RegisterMember.model_validate({"name": "Anna de Vries", "email": email, "perspectives": ["resident"]})
    return handlers.register_member(OPERATOR, request, uow_on(engine)).id


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    upgrade("members", pg_url)
    engine = create_service_engine(pg_url, "members")
    yield engine
    engine.dispose()


def test_a_token_issued_before_migration_0006_still_works_without_expiry_as_the_operators(pg_url: str) -> None:
    upgrade("members", pg_url, "0005")
    engine = create_service_engine(pg_url, "members")
    try:
        anna = register(engine, "anna@example.org")
        with engine.begin() as conn:  # the table as 0005 left it: no expires_at, via or operator
            conn.execute(text("INSERT INTO access_tokens (id, member_id, token_hash, label, created_at) "
                              "VALUES ('t-old', :member, :hash, 'laptop', now())"),
                         {"member": anna, "hash": handlers.hash_token("krm_old")})
        upgrade("members", pg_url)
        principal = handlers.authenticate(handlers.hash_token("krm_old"), uow_on(engine))
        assert (principal.member_id, principal.token_id, principal.expires_at, principal.operator) == (
            anna, "t-old", None, False)
        with uow_on(engine) as uow:
            (info,) = uow.tokens.for_member(anna)
        assert (info.via, info.operator, info.expires_at) == ("operator", False, None)
    finally:
        engine.dispose()


def test_a_sign_in_token_works_until_it_expires_on_postgresql(engine: Engine) -> None:
    anna = register(engine, "anna@example.org")
    signed = handlers.sign_in(SignIn(email="Anna@Example.org", ttl_seconds=60), uow_on(engine))
    principal = handlers.authenticate(handlers.hash_token(signed.token), uow_on(engine))
    assert (principal.member_id, principal.expires_at) == (anna, signed.expires_at)
    assert signed.expires_at.tzinfo is not None
    with engine.begin() as conn:  # time passes: the expiry is now a second ago
        conn.execute(update(models.access_tokens).where(models.access_tokens.c.id == signed.token_id)
                     .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(signed.token), uow_on(engine))


def test_an_operators_sign_in_is_stored_with_the_operators_authority_and_revoked_by_its_holder(engine: Engine) -> None:
    olga, bram = register(engine, "olga@example.org"), register(engine, "bram@example.org")
    signed = handlers.sign_in(SignIn(email="olga@example.org", operator=True), uow_on(engine))
    assert handlers.authenticate(handlers.hash_token(signed.token), uow_on(engine)).operator is True
    with pytest.raises(PermissionDenied):
        handlers.revoke_token(member(bram), signed.token_id, uow_on(engine))
    handlers.revoke_token(member(olga), signed.token_id, uow_on(engine))
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(signed.token), uow_on(engine))
