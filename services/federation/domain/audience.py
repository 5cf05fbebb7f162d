"""Who receives an output: computed once, when it is shared, from the links active at that moment.

- ``network``: nobody outside its own network.
- ``linked``: networks directly linked to the origin whose link policy (origin → them) admits it.
- ``federation``: every network reachable from the origin through active links, each hop admitting it.
- ``public``: as federation, and the public feed too.

A blocked network neither shares, receives, nor passes anything on; nor does an archived one.
A hop admits an output when its direction's policy lists the output's visibility and, if the policy has a
theme filter, the output carries at least one of those themes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from services.common.vocabulary import Visibility


@dataclass(frozen=True)
class Policy:
    visibilities: frozenset[Visibility]
    themes: frozenset[str] | None = None

    def admits(self, visibility: Visibility, themes: Iterable[str]) -> bool:
        if visibility not in self.visibilities:
            return False
        return self.themes is None or not self.themes.isdisjoint(t.lower() for t in themes)


DEFAULT_POLICY = Policy(frozenset({Visibility.LINKED, Visibility.FEDERATION, Visibility.PUBLIC}))


@dataclass(frozen=True)
class Hop:
    """One direction of an active link: what may flow from ``source`` to ``target``."""

    source: str
    target: str
    policy: Policy


@dataclass(frozen=True)
class Shareable:
    origin: str
    visibility: Visibility
    themes: tuple[str, ...]


def audience(output: Shareable, hops: Iterable[Hop], *, blocked: set[str], closed: set[str]) -> set[str]:
    """The networks (other than the origin) that receive ``output``. ``closed``: archived networks."""
    if output.visibility == Visibility.NETWORK or output.origin in blocked:
        return set()
    shut = blocked | closed
    onward: dict[str, list[Hop]] = {}
    for hop in hops:
        if hop.policy.admits(output.visibility, output.themes) and not {hop.source, hop.target} & shut:
            onward.setdefault(hop.source, []).append(hop)
    if output.visibility == Visibility.LINKED:
        reached = {hop.target for hop in onward.get(output.origin, [])}
    else:
        reached = _reachable(output.origin, onward)
    return reached - {output.origin}


def _reachable(origin: str, onward: dict[str, list[Hop]]) -> set[str]:
    seen = {origin}
    queue = deque([origin])
    while queue:
        for hop in onward.get(queue.popleft(), []):
            if hop.target not in seen:
                seen.add(hop.target)
                queue.append(hop.target)
    return seen
