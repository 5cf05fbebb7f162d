"""Links whose other side is on the peer: the relay reads the peer's copy (``GetLink``) and makes ours follow
(accepted there → active here, rejected, revoked or blocked there → the same here; a changed policy of the
peer's side too). Links still waiting for an answer are read every ``interval`` seconds, active ones every
``active_every`` polls (to notice a revocation or a policy change there)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from services.common.errors import KringError
from services.federation.domain.crossing import follow_remote

log = logging.getLogger(__name__)


class LinkPeer(Protocol):
    def get_link(self, link_id: str) -> dict[str, Any]: ...


class LinkLocal(Protocol):
    def open_peer_links(self, instance_id: str) -> list[dict[str, Any]]: ...

    def follow_peer_link(self, link_id: str, remote: dict[str, Any]) -> dict[str, Any]: ...


class LinkWatcher:
    def __init__(self, instance_id: str, local: LinkLocal, *, interval: float = 5.0, active_every: int = 6,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.instance_id = instance_id
        self.local = local
        self.interval = interval
        self.active_every = active_every
        self.clock = clock
        self._last = float("-inf")
        self._polls = 0

    def poll(self, peer: LinkPeer) -> int:
        """Read the peer's copies if due; return how many of ours changed. Errors are logged, never raised: a
        link that cannot be read now is read at the next poll, and the stream goes on."""
        now = self.clock()
        if now - self._last < self.interval:
            return 0
        self._last = now
        self._polls += 1
        try:
            links = self.local.open_peer_links(self.instance_id)
        except KringError as exc:
            log.debug("relay: cannot list the links with peer %s: %s", self.instance_id, exc)
            return 0
        changed = 0
        for link in links:
            if link["status"] == "active" and self._polls % self.active_every:
                continue
            try:
                remote = peer.get_link(link["remote_link_id"])
                if remote["status"] == link["remote_status"] and not follow_remote(link["status"], remote["status"]) \
                        and link["status"] != "active":
                    continue
                after = self.local.follow_peer_link(link["link_id"], remote)
            except KringError as exc:
                log.warning("relay: link %s with peer %s (its link %s): %s", link["link_id"], self.instance_id,
                            link["remote_link_id"], exc)
                continue
            if after["status"] != link["status"]:
                changed += 1
                log.info("relay: link %s is %s here, as on peer %s", link["link_id"], after["status"],
                         self.instance_id)
        return changed
