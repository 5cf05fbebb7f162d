"""A member's API tokens: issued by the operator or by a sign-in, shown once, stored hashed; authenticating a
token's hash (revoked and expired tokens authenticate as nobody)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from services.common.audit import Subject
from services.common.caller import Caller, require
from services.common.catalogue import TokenRevoked
from services.common.errors import NotFound, Unauthenticated, violation
from services.members.domain import access
from services.members.handlers.members import active_member, now
from services.members.ports import MembersUoW
from services.members.schemas import IssueToken, Principal, SignedIn, SignIn, TokenIssued

TOKEN_PREFIX = "krm_"  # noqa: S105 - a visible prefix, not a secret
SIGN_IN_LABEL = "console sign-in"


def issue_token(caller: Caller, member_id: str, cmd: IssueToken, uow: MembersUoW) -> TokenIssued:
    require(access.can_issue_tokens(caller), "only the operator issues tokens")
    with uow:
        active_member(uow, member_id)
        token, at = new_token(), now()
        expires_at = at + timedelta(seconds=cmd.ttl_seconds) if cmd.ttl_seconds is not None else None
        info = uow.tokens.add(str(uuid.uuid4()), member_id, hash_token(token), cmd.label, at, expires_at=expires_at)
        uow.audit.record("token.issued", caller, Subject.member(member_id),
                         detail={"token_id": info.token_id, "via": "operator"})
        uow.commit()
        return TokenIssued(token=token, **info.model_dump())


def sign_in(cmd: SignIn, uow: MembersUoW) -> SignedIn:
    """A token for the active member with the verified e-mail address, expiring after ``cmd.ttl_seconds``.

    The gateway calls this only for the sign-in broker, and decides ``cmd.operator`` from its configuration. The
    member is the actor of the audit entry: they signed in; the detail says how, never the address.
    """
    with uow:
        member = uow.members.get_by_email(cmd.email)
        if member is None or member.erased:
            raise not_a_member()
        token, at = new_token(), now()
        info = uow.tokens.add(str(uuid.uuid4()), member.id, hash_token(token), SIGN_IN_LABEL, at,
                              expires_at=at + timedelta(seconds=cmd.ttl_seconds), via="sign-in",
                              operator=cmd.operator)
        uow.audit.record("token.issued", Caller.member(member.id), Subject.member(member.id),
                         detail={"token_id": info.token_id, "via": "sign-in", "operator": cmd.operator})
        uow.commit()
        assert info.expires_at is not None
        return SignedIn(token=token, token_id=info.token_id, member_id=member.id, expires_at=info.expires_at,
                        operator=cmd.operator)


NOT_A_MEMBER = "active_member"  # the rule a sign-in breaks when no active member has its e-mail address


def not_a_member() -> NotFound:
    """A 404 the console tells apart from any other: field ``email``, rule ``active_member``."""
    message = "no active member of this Kring instance has this e-mail address"
    return NotFound(message, [violation("email", NOT_A_MEMBER, message)])


def revoke_token(caller: Caller, token_id: str, uow: MembersUoW) -> None:
    with uow:
        member_id = uow.tokens.holder(token_id)
        if member_id is None:
            raise NotFound(f"token {token_id} not found")
        require(access.can_revoke_token(caller, member_id),
                "you may revoke only your own tokens; another member's are the operator's to revoke")
        if uow.tokens.revoke(token_id, now()):
            uow.add_event(TokenRevoked(member_id=member_id, token_id=token_id))
            uow.audit.record("token.revoked", caller, Subject.member(member_id), detail={"token_id": token_id})
        uow.commit()


def authenticate(token_hash: str, uow: MembersUoW) -> Principal:
    """Who holds the working token with this hash, which networks they belong to, administer and facilitate, and
    until when the token works."""
    with uow:
        info = uow.tokens.active(token_hash, now())
        member = uow.members.get(info.member_id) if info else None
        if info is None or member is None or member.erased:
            raise Unauthenticated("unknown, expired or revoked token")
        return Principal(member_id=member.id, administers=member.administers(), facilitates=member.facilitates(),
                         member_of=sorted(member.memberships), token_id=info.token_id, expires_at=info.expires_at,
                         operator=info.operator)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash suffices; what matters is that only the hash is stored.
    return hashlib.sha256(token.encode()).hexdigest()
