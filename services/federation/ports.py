"""What the federation service asks of other services (its adapters: :mod:`services.federation.adapters`)."""

from __future__ import annotations

from typing import Any, Protocol


class NetworkLookup(Protocol):
    def get(self, network_id: str) -> dict[str, Any] | None:
        """The network as the networks service has it now, or None."""
