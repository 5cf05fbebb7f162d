"""A believable demo federation, loaded only through the admin API (``kring demo-data``, ``make run``).

- :mod:`~services.demo.catalogue`: the networks, members and memberships, as plain data;
- :mod:`~services.demo.plan`: each network's sessions, outputs and reflections, computed from its start date
  and cadence (deterministic, no I/O);
- :mod:`~services.demo.loader` and :mod:`~services.demo.sessions`: bringing a running admin API to that
  data, idempotently.
"""

from services.demo.catalogue import (
    DEMO_MEMBERS,
    DEMO_MEMBERSHIPS,
    DEMO_NETWORKS,
    EXAMPLE_TOKEN_HOLDER,
    EXAMPLE_TOKEN_LABEL,
    NETWORK_KEYS,
    DemoMember,
    DemoNetwork,
    demo_member,
    demo_network,
    members_of,
)
from services.demo.http import DemoDataError, admin_client
from services.demo.loader import DemoResult, load_demo_data

__all__ = [
    "DEMO_MEMBERS", "DEMO_MEMBERSHIPS", "DEMO_NETWORKS", "EXAMPLE_TOKEN_HOLDER", "EXAMPLE_TOKEN_LABEL", "NETWORK_KEYS",
    "DemoDataError", "DemoMember", "DemoNetwork", "DemoResult", "admin_client", "demo_member", "demo_network",
    "load_demo_data", "members_of",
]
