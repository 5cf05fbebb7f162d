"""What may cross from a peer instance: the origin check, and how a peer's link status maps onto ours.

An instance speaks only for the networks it hosts. An entry from peer P is applied when its output's origin is
one of P's networks as registered here (the networks P's partner of kind instance owns). An output this
instance already holds under the same origin (its own, travelling back through P's graph) is a duplicate,
as long as the entry would change nothing (the handler refuses a retraction or an attribution of it). Anything
else is refused: P claims an origin it does not host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.common.vocabulary import Visibility
from services.federation.domain.audience import Hop, Shareable, audience


class Verdict(StrEnum):
    APPLY = "apply"
    DUPLICATE = "duplicate"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str | None = None


def judge(peer: str, origin: str, *, peer_networks: frozenset[str] | set[str],
          known_origin: str | None) -> Judgement:
    """``known_origin``: the origin this instance holds for the output id, None if the id is new here."""
    if known_origin is not None and known_origin != origin:
        return Judgement(Verdict.REFUSE, f"output id already known here with origin {known_origin}")
    if origin in peer_networks:
        return Judgement(Verdict.APPLY)
    if known_origin is not None:
        return Judgement(Verdict.DUPLICATE)
    return Judgement(Verdict.REFUSE, f"origin network {origin} is not one of {peer}'s networks here")


def arrival_audience(output: Shareable, entry: str, *, peer_networks: frozenset[str], hops: Iterable[Hop],
                     blocked: set[str], closed: set[str], remote: set[str]) -> set[str]:
    """The networks here that receive an output the peer delivered into ``entry``'s feed there.

    The peer decided, with its own links, that ``entry`` (one of our networks) receives the output. We agree
    when we hold an active link into ``entry`` from one of the peer's networks whose policy admits the output
    (from the origin itself, for a ``linked`` output), and ``entry`` is neither blocked nor archived here, nor the
    origin blocked. A ``federation`` or ``public`` output then travels on from ``entry`` through this instance's
    own networks, hop by hop as its policies admit, as if ``entry`` had shared it; never into another instance's
    network (an instance speaks only for the networks it hosts, so that instance would refuse it anyway).
    """
    shut = blocked | closed
    if output.visibility == Visibility.NETWORK or output.origin in blocked or entry in shut or entry in remote:
        return set()
    hops = list(hops)
    senders = {output.origin} if output.visibility == Visibility.LINKED else peer_networks
    if not any(h.target == entry and h.source in senders and h.source not in shut
               and h.policy.admits(output.visibility, output.themes) for h in hops):
        return set()
    if output.visibility == Visibility.LINKED:
        return {entry}
    ours = [h for h in hops if h.source not in remote and h.target not in remote]
    return ({entry} | audience(Shareable(entry, output.visibility, output.themes), ours, blocked=blocked,
                               closed=closed)) - {output.origin}


# The peer's status of a link → what we do to our copy of it while ours is open.
REMOTE_TO_LOCAL = {"active": "accept", "rejected": "reject", "revoked": "revoke", "blocked": "block"}


def follow_remote(local_status: str, remote_status: str) -> str | None:
    """The change to make to our copy of a cross-instance link when the peer shows ``remote_status``."""
    action = REMOTE_TO_LOCAL.get(remote_status)
    if local_status == "requested":
        return action
    if local_status == "active" and action in ("revoke", "block"):
        return action
    return None
