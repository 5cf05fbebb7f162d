"""Command and query handlers of the networks service; the read models' event effects are in
:mod:`services.networks.read_models`."""

from services.networks.handlers.networks import (
    ancestry,
    archive_network,
    create_network,
    get_network,
    health,
    list_networks,
    network_tree,
    network_view,
    update_network,
)
from services.networks.handlers.reports import health_report

__all__ = ["ancestry", "archive_network", "create_network", "get_network", "health", "health_report",
           "list_networks", "network_tree", "network_view", "update_network"]
