"""Partners: registration with a key shown once, authentication, revocation, rotation, blocking; and the
outputs a partner publishes and retracts for its own networks."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from services.common.audit import Subject
from services.common.caller import Caller
from services.common.catalogue import (
    Attribution,
    NetworkBlocked,
    PartnerBlocked,
    PartnerChanged,
    PartnerKeyRotated,
    PartnerRegistered,
    PartnerRevoked,
)
from services.common.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationFailed, violation
from services.common.paging import decode_page_token, encode_page_token
from services.federation.domain import access
from services.federation.domain.copies import PUBLIC_FEED, Copy, public_author, tombstone
from services.federation.domain.outputs import SharedOutput
from services.federation.handlers.links import _block_links
from services.federation.handlers.sharing import retract, share
from services.federation.partners.ports import PartnerRow
from services.federation.ports import FederationUoW, NetworkLookup
from services.federation.schemas import (
    BlockSubject,
    PartnerKey,
    PartnerOut,
    PartnerOutput,
    PartnerOutputRetracted,
    PartnerOutputShared,
    PublishedItem,
    PublishedPage,
    PublishedQuery,
    RegisterPartner,
)

KEY_PREFIX = "kpk_"
# Partner output ids are derived from the partner and its own id, so publishing again changes nothing.
OUTPUT_NAMESPACE = uuid.UUID("6f1c2a4e-6b8e-4a43-9c3e-4b1d2f0c7a11")


def now() -> datetime:
    return datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def register_partner(caller: Caller, cmd: RegisterPartner, uow: FederationUoW, lookup: NetworkLookup) -> PartnerKey:
    access.require_operator(caller)
    with uow:
        for network_id in cmd.network_ids:
            if uow.read_models.network(network_id) is None and lookup.get(network_id) is None:
                raise NotFound(f"network {network_id} not found",
                               [violation("network_ids", "exists", f"no network {network_id}")])
            if uow.partners.owner_of(network_id):
                raise Conflict(f"network {network_id} already belongs to a partner",
                               [violation("network_ids", "unowned", "each network has one partner at most")])
        key, partner_id = KEY_PREFIX + secrets.token_urlsafe(32), str(uuid.uuid4())
        uow.partners.add(partner_id, cmd.name, hash_key(key), sorted(set(cmd.network_ids)), now())
        record_partner(uow, PartnerRegistered, partner_id)
        uow.audit.record("partner.registered", caller, Subject.partner(partner_id),
                         detail={"kind": "organisation", "network_ids": sorted(set(cmd.network_ids))})
        uow.commit()
        return PartnerKey(api_key=key, **_view(_written(uow, partner_id)).model_dump())


def authenticate_partner(key_hash: str, uow: FederationUoW) -> PartnerOut:
    with uow:
        partner = uow.partners.by_key_hash(key_hash)
        if partner is None or partner["status"] == "revoked":
            raise Unauthenticated("unknown or revoked partner key")
        if partner["status"] == "blocked":
            raise PermissionDenied("this partner is blocked")
        return _view(partner)


def revoke_partner(caller: Caller, partner_id: str, uow: FederationUoW) -> PartnerOut:
    """Refuse the partner's key from now on. A blocked partner stays blocked: revoking never lifts a block."""
    access.require_operator(caller)
    with uow:
        partner = _get(uow, partner_id)
        if partner["status"] != "blocked":
            uow.partners.change(partner_id, now(), status="revoked")
            record_partner(uow, PartnerRevoked, partner_id)
            uow.audit.record("partner.revoked", caller, Subject.partner(partner_id))
        uow.commit()
        return _view(_written(uow, partner_id))


def rotate_partner_key(caller: Caller, partner_id: str, uow: FederationUoW) -> PartnerKey:
    access.require_operator(caller)
    with uow:
        partner = _get(uow, partner_id)
        if partner["status"] == "blocked" or uow.blocks.is_blocked("partner", partner_id):
            raise PermissionDenied("a blocked partner gets no new key")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        uow.partners.change(partner_id, now(), key_hash=hash_key(key), status="active")
        record_partner(uow, PartnerKeyRotated, partner_id)
        uow.audit.record("partner.key_rotated", caller, Subject.partner(partner_id))
        uow.commit()
        return PartnerKey(api_key=key, **_view(_written(uow, partner_id)).model_dump())


def block_partner(caller: Caller, partner_id: str, cmd: BlockSubject, uow: FederationUoW) -> PartnerOut:
    """Refuse its key, end the links of its networks and keep them out of every audience."""
    access.require_operator(caller)
    with uow:
        partner = _get(uow, partner_id)
        uow.partners.change(partner_id, now(), status="blocked")
        uow.blocks.add("partner", partner_id, cmd.reason, now())
        record_partner(uow, PartnerBlocked, partner_id)
        ended = 0
        for network_id in partner["network_ids"]:
            if uow.blocks.add("network", network_id, cmd.reason, now()):
                uow.add_event(NetworkBlocked(network_id=network_id, blocked_at=now()))
            ended += len(_block_links(uow, network_id))
        # the reason is words an operator typed: not in the log (it stays with the block)
        uow.audit.record("partner.blocked", caller, Subject.partner(partner_id),
                         detail={"network_ids": sorted(partner["network_ids"]), "links_ended": ended})
        uow.commit()
        return _view(_written(uow, partner_id))


def list_partners(caller: Caller, uow: FederationUoW) -> list[PartnerOut]:
    access.require_operator(caller)
    with uow:
        return [_view(p) for p in uow.partners.all()]


def get_partner(caller: Caller, partner_id: str, uow: FederationUoW) -> PartnerOut:
    access.require_operator(caller)
    with uow:
        return _view(_get(uow, partner_id))


def publish_partner_output(caller: Caller, cmd: PartnerOutput, uow: FederationUoW,
                           lookup: NetworkLookup) -> PartnerOutputShared:
    """Share an output of one of the partner's networks; the same client output id shares it once."""
    partner_id = _partner(caller)
    with uow:
        _ensure_owner(uow, caller, cmd.network_id, lookup)
        output_id = partner_output_id(partner_id, cmd.client_output_id)
        known = uow.outputs.get(output_id)
        if known is None:
            published_at = now()
            copy: Copy = {
                "output_id": output_id, "origin_network_id": cmd.network_id, "session_id": cmd.session_ref,
                "kind": cmd.kind.value, "title": cmd.title, "body": cmd.body, "url": cmd.url,
                "resource_type": cmd.resource_type.value if cmd.resource_type else None, "themes": cmd.themes,
                "visibility": cmd.visibility.value, "licence": cmd.licence,
                "authors": [public_author(Attribution(member_id="", shown_as=a, named=True)) for a in cmd.authors],
                "published_at": published_at.isoformat(),
            }
            share(uow, SharedOutput.published(output_id, cmd.network_id, copy, [], cmd.visibility, published_at,
                                              f"partner:{partner_id}"))
            uow.commit()
            known = uow.outputs.get(output_id)
        assert known is not None
        if known.origin_network_id != cmd.network_id:
            raise Conflict("this client output id was used for another network",
                           [violation("client_output_id", "unique", "already used for another network")])
        networks_reached = [n for n in uow.feeds.recipients(output_id) if n != PUBLIC_FEED]
        return {"output_id": output_id, "recipients": len(networks_reached), "retracted": known.is_retracted}


def retract_partner_output(caller: Caller, output_id: str, uow: FederationUoW,
                           lookup: NetworkLookup) -> PartnerOutputRetracted:
    partner_id = _partner(caller)
    with uow:
        known = uow.outputs.get(output_id)
        if known is None:
            raise NotFound(f"output {output_id} not found")
        _ensure_owner(uow, caller, known.origin_network_id, lookup)
        retract(uow, SharedOutput.retracted(output_id, known.origin_network_id, now(), f"partner:{partner_id}"))
        uow.commit()
        return {"output_id": output_id, "retracted": True}


def published_outputs(caller: Caller, query: PublishedQuery, uow: FederationUoW,
                      lookup: NetworkLookup) -> PublishedPage:
    """The outputs the partner published itself, oldest first, each as it is now (its copy, or its tombstone)
    with how many networks hold it, as ``PublishOutput`` counts them."""
    partner_id = _partner(caller)
    after = _published_after(query.page_token) if query.page_token else None
    with uow:
        if query.network_id is not None:
            owner = uow.partners.owner_of(query.network_id)
            if owner != partner_id and uow.read_models.network(query.network_id) is None \
                    and lookup.get(query.network_id) is None:
                raise NotFound(f"network {query.network_id} not found",
                               [violation("network_id", "exists", "no such network")])
            access.require_acts_for(caller, query.network_id, owner, "network_id")
        found = uow.outputs.published_by(f"partner:{partner_id}", query.network_id, after, query.page_size + 1)
        page = found[: query.page_size]
        items = [PublishedItem(
            output=dict(o.copy) if o.copy is not None
            else dict(tombstone(o.output_id, o.origin_network_id, o.retracted_at)),
            recipients=len([n for n in uow.feeds.recipients(o.output_id) if n != PUBLIC_FEED]),
        ) for o in page]
    last = page[-1] if len(found) > query.page_size else None
    token = encode_page_token(last.published_at.isoformat(), last.output_id) if last and last.published_at else None
    return PublishedPage(items=items, next_page_token=token)


def _published_after(token: str) -> tuple[datetime, str]:
    at, output_id = decode_page_token(token)
    try:
        return datetime.fromisoformat(at), output_id
    except ValueError:
        raise ValidationFailed.single("page_token", "valid_page_token", "not a page token we gave") from None


def partner_output_id(partner_id: str, client_output_id: str) -> str:
    return f"p-{uuid.uuid5(OUTPUT_NAMESPACE, f'{partner_id}/{client_output_id}')}"


def record_partner(uow: FederationUoW, change: type[PartnerChanged], partner_id: str) -> None:
    """Record what every gateway must learn about a partner whose standing or key just changed."""
    partner = _written(uow, partner_id)
    uow.add_event(change(partner_id=partner_id, status=partner["status"], network_ids=list(partner["network_ids"])))


def _partner(caller: Caller) -> str:
    if caller.kind != "partner" or caller.partner_id is None:
        raise PermissionDenied("only a partner publishes, retracts and lists partner outputs")
    return caller.partner_id


def _ensure_owner(uow: FederationUoW, caller: Caller, network_id: str, lookup: NetworkLookup) -> None:
    """The network is the partner's: NOT_FOUND if it does not exist at all, else PERMISSION_DENIED."""
    owner = uow.partners.owner_of(network_id)
    if owner != caller.partner_id and uow.read_models.network(network_id) is None and lookup.get(network_id) is None:
        raise NotFound(f"network {network_id} not found", [violation("network_id", "exists", "no such network")])
    access.require_acts_for(caller, network_id, owner, "network_id")
    if uow.blocks.is_blocked("network", network_id):
        raise PermissionDenied(f"network {network_id} is blocked")


def _get(uow: FederationUoW, partner_id: str) -> PartnerRow:
    partner = uow.partners.get(partner_id)
    if partner is None:
        raise NotFound(f"partner {partner_id} not found")
    return partner


def _written(uow: FederationUoW, partner_id: str) -> PartnerRow:
    """A partner this handler has just added or changed, read back."""
    partner = uow.partners.get(partner_id)
    assert partner is not None, partner_id
    return partner


def _view(partner: PartnerRow) -> PartnerOut:
    return PartnerOut(partner_id=partner["id"], name=partner["name"], status=partner["status"],
                      network_ids=partner["network_ids"], created_at=partner["created_at"],
                      kind=partner.get("kind") or "organisation", instance_id=partner.get("instance_id"))
