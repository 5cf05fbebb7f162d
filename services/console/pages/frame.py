"""The frame of a network's pages: the network, the person's roles in it, and the tabs their roles open.

Every page about one network (``/networks/{id}/...``) renders ``network_base.html`` with :func:`network_frame`'s
values. Which tabs show is only a convenience for the person: what they may see and do is the API's answer to
each call, so a tab they reach by URL without the role gets the API's refusal, drawn as the refusal page.
"""

from __future__ import annotations

from typing import Any

from services.console.api import api_path
from services.console.pages.home import roles_in
from services.console.web import Page

# (tab, path below /networks/{id}, who sees it: "all" for anyone signed in (the API shows a network's sessions
# and outputs to them), "member" for anyone with a role in the network, "staff" for its coordinators and
# facilitators, "coordinator" for its coordinators). The operator sees every tab.
TABS: tuple[tuple[str, str, str], ...] = (
    ("overview", "", "all"),
    ("sessions", "/sessions", "all"),
    ("outputs", "/outputs", "all"),
    ("members", "/members", "staff"),
    ("links", "/links", "coordinator"),
    ("feed", "/feed", "member"),  # what was shared with the network: the API refuses it to outsiders
    ("health", "/health", "staff"),
    ("learning", "/learning", "staff"),
)


def visible_tabs(roles: list[str], operator: bool) -> list[tuple[str, str]]:
    def opens(audience: str) -> bool:
        if operator or audience == "all":
            return True
        if audience == "member":
            return bool(roles)
        if audience == "staff":
            return bool({"coordinator", "facilitator"} & set(roles))
        return "coordinator" in roles

    return [(tab, path) for tab, path, audience in TABS if opens(audience)]


def network_frame(page: Page, network_id: str, tab: str) -> dict[str, Any]:
    """What ``network_base.html`` needs: the network (404 from the API if there is none), roles and tabs."""
    network: dict[str, Any] = page.api.get(api_path("/v1/networks/{}", network_id))
    me = page.me()
    roles = roles_in(me, network_id)
    operator = bool(me.get("operator"))
    staff = operator or bool({"coordinator", "facilitator"} & set(roles))
    return {"network": network, "roles": roles, "operator": operator, "tab": tab, "tabs": visible_tabs(roles, operator),
            "staff": staff, "coordinator": operator or "coordinator" in roles, "title": network["name"]}
