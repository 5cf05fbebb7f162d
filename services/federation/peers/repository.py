"""Between instances: the peers this instance follows, links whose other side is on a peer, and the networks
other instances host (rows of the networks read model with an ``instance_id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from services.common.keys_at_rest import KeysAtRest
from services.federation.models import feed_log, networks, peer_links, peer_networks, peers
from services.federation.peers.ports import PeerConfig, PeerLinkRow, PeerNetworkRow, PeerRow

SKIPPED_KEPT = 20  # refused entries a peer's state shows (the log has every one)


class Peers:
    """The key a peer issued to this instance is stored encrypted (:mod:`services.common.keys_at_rest`) and
    read back in the clear, for the relay and the gateway's link requests only."""

    def __init__(self, connection: Connection, keys: KeysAtRest) -> None:
        self.connection = connection
        self.keys = keys

    def get(self, instance_id: str) -> PeerRow | None:
        row = self.connection.execute(select(peers).where(peers.c.instance_id == instance_id)).mappings().first()
        return self._peer(row) if row else None

    def all(self) -> list[PeerRow]:
        return [self._peer(r) for r in
                self.connection.execute(select(peers).order_by(peers.c.instance_id)).mappings()]

    def add(self, instance_id: str, config: PeerConfig, now: datetime) -> None:
        self.connection.execute(insert(peers).values(
            instance_id=instance_id, config_revision=1, cursor=0, state={}, skipped=[], refused_entries=0,
            created_at=now, changed_at=now, **self._stored(config)))

    def reconfigure(self, instance_id: str, config: PeerConfig, now: datetime) -> None:
        self.connection.execute(update(peers).where(peers.c.instance_id == instance_id).values(
            config_revision=peers.c.config_revision + 1, changed_at=now, **self._stored(config)))

    def reencrypt(self) -> int:
        """Every stored key encrypted under the first key (a plaintext one too): how many were rewritten."""
        rewritten = 0
        for instance_id, stored in self.connection.execute(select(peers.c.instance_id, peers.c.api_key)).all():
            sealed = self.keys.reseal(stored)
            if sealed is not None:
                self.connection.execute(update(peers).where(peers.c.instance_id == instance_id)
                                        .values(api_key=sealed))
                rewritten += 1
        return rewritten

    def _stored(self, config: PeerConfig) -> dict[str, Any]:
        return {**config, "api_key": self.keys.seal(config["api_key"])}

    def _peer(self, row: RowMapping) -> PeerRow:
        return PeerRow(instance_id=row["instance_id"], name=row["name"], address=row["address"],
                       api_key=self.keys.open(row["api_key"]),
                       transport=row["transport"] or {"mode": "plaintext"}, network_ids=row["network_ids"],
                       config_revision=row["config_revision"], cursor=row["cursor"], state=row["state"],
                       skipped=row["skipped"], refused_entries=row["refused_entries"],
                       last_ingest_at=row["last_ingest_at"], created_at=row["created_at"],
                       changed_at=row["changed_at"])

    def remove(self, instance_id: str) -> bool:
        return self.connection.execute(delete(peers).where(peers.c.instance_id == instance_id)).rowcount > 0

    def advance(self, instance_id: str, cursor: int, now: datetime, refused: list[dict[str, Any]]) -> None:
        """Store the cursor with the batch it ends (the same transaction as the batch's effects)."""
        values: dict[str, Any] = {"cursor": cursor, "last_ingest_at": now}
        if refused:
            held = self.get(instance_id)
            skipped, refused_entries = (held["skipped"], held["refused_entries"]) if held else ([], 0)
            values["skipped"] = [*(skipped or []), *refused][-SKIPPED_KEPT:]
            values["refused_entries"] = (refused_entries or 0) + len(refused)
        self.connection.execute(update(peers).where(peers.c.instance_id == instance_id).values(**values))

    def report(self, instance_id: str, state: dict[str, Any]) -> bool:
        return self.connection.execute(
            update(peers).where(peers.c.instance_id == instance_id).values(state=state)).rowcount > 0


class PeerLinks:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, link_id: str) -> PeerLinkRow | None:
        row = self.connection.execute(select(peer_links).where(peer_links.c.link_id == link_id)).mappings().first()
        return _peer_link(row) if row else None

    def attach(self, link_id: str, instance_id: str, remote_link_id: str, remote_status: str, now: datetime) -> None:
        if self.get(link_id) is None:
            self.connection.execute(insert(peer_links).values(
                link_id=link_id, instance_id=instance_id, remote_link_id=remote_link_id, remote_status=remote_status,
                checked_at=now))
        else:
            self.seen(link_id, remote_status, now)

    def seen(self, link_id: str, remote_status: str, now: datetime) -> None:
        self.connection.execute(update(peer_links).where(peer_links.c.link_id == link_id)
                                .values(remote_status=remote_status, checked_at=now))

    def of_instance(self, instance_id: str) -> list[PeerLinkRow]:
        return [_peer_link(r) for r in self.connection.execute(
            select(peer_links).where(peer_links.c.instance_id == instance_id).order_by(peer_links.c.link_id))
            .mappings()]

    def forget_instance(self, instance_id: str) -> None:
        self.connection.execute(delete(peer_links).where(peer_links.c.instance_id == instance_id))


def _peer_link(row: RowMapping) -> PeerLinkRow:
    return PeerLinkRow(link_id=row["link_id"], instance_id=row["instance_id"], remote_link_id=row["remote_link_id"],
                       remote_status=row["remote_status"], checked_at=row["checked_at"])


class RemoteNetworks:
    """Networks of other instances, in the same read model as this instance's own (so links, audiences and
    feeds treat them alike); ``instance_id`` tells them apart."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def ids(self) -> set[str]:
        """Every network another instance hosts."""
        return set(self.connection.execute(select(networks.c.id).where(networks.c.instance_id.is_not(None)))
                   .scalars())

    def instance_of(self, network_id: str) -> str | None:
        """The instance hosting a network the read model knows: None for our own (or an unknown) network."""
        instance: str | None = self.connection.execute(
            select(networks.c.instance_id).where(networks.c.id == network_id)).scalar()
        return instance

    def put(self, instance_id: str, network: dict[str, Any]) -> None:
        """``network``: a :class:`~services.federation.schemas.RemoteNetwork` as JSON."""
        values = {"name": network["name"], "theme": network.get("theme") or "", "level": network.get("level"),
                  "kind": network.get("kind"), "instance_id": instance_id, "status": "active", "parent_id": None}
        held = self.connection.execute(select(networks.c.id).where(networks.c.id == network["id"])).first()
        if held is None:
            self.connection.execute(insert(networks).values(id=network["id"], revision=0, **values))
        else:
            self.connection.execute(update(networks).where(networks.c.id == network["id"]).values(**values))


    def close(self, network_id: str) -> None:
        self.connection.execute(update(networks).where(networks.c.id == network_id, networks.c.instance_id.is_not(None))
                                .values(status="archived"))


class PeerDirectory:
    """The networks each peer's partner API lists, as the relay last read them, offered, approved or withdrawn."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def of_instance(self, instance_id: str) -> list[PeerNetworkRow]:
        return [PeerNetworkRow(**r) for r in self.connection.execute(  # type: ignore[typeddict-item]
            select(peer_networks).where(peer_networks.c.instance_id == instance_id)
            .order_by(peer_networks.c.name, peer_networks.c.network_id)).mappings()]

    def get(self, instance_id: str, network_id: str) -> PeerNetworkRow | None:
        row = self.connection.execute(select(peer_networks).where(
            peer_networks.c.instance_id == instance_id, peer_networks.c.network_id == network_id)).mappings().first()
        return PeerNetworkRow(**row) if row else None  # type: ignore[typeddict-item]

    def add(self, row: PeerNetworkRow) -> None:
        self.connection.execute(insert(peer_networks).values(**row))

    def change(self, instance_id: str, network_id: str, **values: Any) -> None:
        self.connection.execute(update(peer_networks).where(
            peer_networks.c.instance_id == instance_id, peer_networks.c.network_id == network_id).values(**values))


class FeedHeads:
    """How far a reader of the feed log is behind, for the networks it reads."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def head(self, network_ids: list[str]) -> int:
        return int(self.connection.execute(
            select(func.max(feed_log.c.position)).where(feed_log.c.network_id.in_(network_ids))).scalar() or 0)

    def pending(self, network_ids: list[str], cursor: int) -> int:
        return int(self.connection.execute(
            select(func.count()).select_from(feed_log)
            .where(feed_log.c.network_id.in_(network_ids), feed_log.c.position > cursor)).scalar() or 0)
