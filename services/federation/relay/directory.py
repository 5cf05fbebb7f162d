"""The peer's directory of networks: the relay reads it through the peer's partner API (``ListNetworks``, every
page) and hands it to this instance's federation service, which keeps it in sync
(:mod:`services.federation.peers.directory`: new networks offered, renamed ones updated, the rest withdrawn).

Read when a follower starts (the relay starts, or the operator changed the peer), then every ``interval`` seconds
(``KRING_PEER_DIRECTORY_SYNC_SECONDS``), also while the stream is backing off or refused. ``ListNetworks`` lists
active networks only: for a network held here as listed that the peer no longer lists, ``GetNetwork`` tells
archived (withdrawn as ``archived``) from gone (``NOT_FOUND``: withdrawn as ``gone``). A reading that fails
halfway reports nothing (a partial directory would withdraw what it missed); the error shows in the peer's state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from services.common.errors import KringError

log = logging.getLogger(__name__)


class DirectoryPeer(Protocol):
    def list_networks(self) -> list[dict[str, Any]]:
        """Every network the peer lists (all pages): ``id``, ``name``, ``theme``, ``level``, ``kind``, ``status``."""
        ...

    def get_network(self, network_id: str) -> dict[str, Any] | None:
        """One network as the peer has it; None when it has no such network."""
        ...


class DirectoryLocal(Protocol):
    def held_directory(self, instance_id: str) -> list[str]: ...

    def sync_directory(self, instance_id: str, networks: list[dict[str, Any]]) -> dict[str, Any]: ...


class DirectoryWatcher:
    def __init__(self, instance_id: str, local: DirectoryLocal, *, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.instance_id = instance_id
        self.local = local
        self.interval = interval
        self.clock = clock
        self._last = float("-inf")

    def due_in(self) -> float:
        """Seconds until the next reading is due (0 or less: due now)."""
        return self._last + self.interval - self.clock()

    def read_failed(self) -> None:
        """A reading that could not even start (the peer could not be reached): the next one after ``interval``."""
        self._last = self.clock()

    def read(self, peer: DirectoryPeer) -> str | None:
        """Read the peer's whole directory and report it; None, or why it could not be read or reported."""
        self._last = self.clock()
        try:
            networks = peer.list_networks()
            listed = {n["id"] for n in networks}
            for network_id in self.local.held_directory(self.instance_id):
                if network_id in listed:
                    continue
                there = peer.get_network(network_id)
                if there is not None and there.get("status") == "archived":
                    networks.append(there)
            synced = self.local.sync_directory(self.instance_id, networks)
        except KringError as exc:
            log.warning("relay: cannot read the directory of peer %s (next attempt in %.0f s): %s", self.instance_id,
                        self.interval, exc)
            return str(exc)[:1000]
        if synced.get("added") or synced.get("changed"):
            log.info("relay: directory of peer %s: %s new, %s changed, %s unchanged", self.instance_id,
                     synced.get("added"), synced.get("changed"), synced.get("unchanged"))
        return None
