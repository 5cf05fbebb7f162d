"""The networks service's rules as plain Python: a network and its place in the hierarchy
(:mod:`.network`), and the nine-step health report (:mod:`.health`)."""

from services.networks.domain import access
from services.networks.domain.network import (
    Network,
    NetworkChanges,
    NetworkState,
    ancestors_of,
    check_parent,
    not_found,
)

__all__ = ["Network", "NetworkChanges", "NetworkState", "access", "ancestors_of", "check_parent", "not_found"]
