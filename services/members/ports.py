"""What the members service needs from other services (its adapters: :mod:`services.members.adapters`)."""

from __future__ import annotations

from typing import Protocol


class NetworkDirectory(Protocol):
    def ensure_open(self, network_id: str) -> None:
        """Raise NotFound for an unknown network and Conflict for an archived one."""
