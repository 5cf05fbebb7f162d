"""A member's API tokens: issued shown once, stored hashed; authenticating a token's hash."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from services.common.audit import Subject
from services.common.caller import Caller, require
from services.common.catalogue import TokenRevoked
from services.common.errors import NotFound, Unauthenticated
from services.members.domain import access
from services.members.handlers.members import active_member, now
from services.members.ports import MembersUoW
from services.members.schemas import IssueToken, Principal, TokenIssued

TOKEN_PREFIX = "krm_"  # noqa: S105 - a visible prefix, not a secret


def issue_token(caller: Caller, member_id: str, cmd: IssueToken, uow: MembersUoW) -> TokenIssued:
    require(access.can_manage_tokens(caller), "only the operator issues tokens")
    with uow:
        active_member(uow, member_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = uow.tokens.add(str(uuid.uuid4()), member_id, hash_token(token), cmd.label, now())
        uow.audit.record("token.issued", caller, Subject.member(member_id), detail={"token_id": info.token_id})
        uow.commit()
        return TokenIssued(token=token, **info.model_dump())


def revoke_token(caller: Caller, token_id: str, uow: MembersUoW) -> None:
    require(access.can_manage_tokens(caller), "only the operator revokes tokens")
    with uow:
        member_id = uow.tokens.holder(token_id)
        if member_id is None:
            raise NotFound(f"token {token_id} not found")
        if uow.tokens.revoke(token_id, now()):
            uow.add_event(TokenRevoked(member_id=member_id, token_id=token_id))
            uow.audit.record("token.revoked", caller, Subject.member(member_id), detail={"token_id": token_id})
        uow.commit()


def authenticate(token_hash: str, uow: MembersUoW) -> Principal:
    """Who holds the token with this hash, which networks they belong to, administer and facilitate."""
    with uow:
        member_id = uow.tokens.member_of_active_token(token_hash)
        member = uow.members.get(member_id) if member_id else None
        if member is None or member.erased:
            raise Unauthenticated("unknown or revoked token")
        return Principal(member_id=member.id, administers=member.administers(), facilitates=member.facilitates(),
                         member_of=sorted(member.memberships))


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash suffices; what matters is that only the hash is stored.
    return hashlib.sha256(token.encode()).hexdigest()
