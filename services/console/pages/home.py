"""The start page: the person's networks, with their role in each, and their upcoming sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.console.api import api_path
from services.console.dates import parsed
from services.console.web import Page, SignedInPage

router = APIRouter()


def roles_in(me: dict[str, Any], network_id: str) -> list[str]:
    """The person's roles in a network, the weightiest first (for labels: coordinator, facilitator, participant)."""
    roles = [role for role, key in (("coordinator", "administers"), ("facilitator", "facilitates"))
             if network_id in me.get(key, [])]
    if not roles and network_id in me.get("member_of", []):
        roles.append("participant")
    return roles


def my_networks(page: Page) -> list[dict[str, Any]]:
    """The networks the person is in, in any role, with their roles; by name."""
    me = page.me()
    ids = sorted(set(me.get("member_of", [])) | set(me.get("administers", [])) | set(me.get("facilitates", [])))
    networks = []
    for network_id in ids:
        network: dict[str, Any] = page.api.get(api_path("/v1/networks/{}", network_id))
        networks.append({**network, "roles": roles_in(me, network_id)})
    return sorted(networks, key=lambda network: str(network.get("name", "")).lower())


UPCOMING_SHOWN = 10  # the start page is a glance; each network's sessions tab has them all


def upcoming_sessions(page: Page, networks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The planned sessions still to come in the person's networks, soonest first, with their network's name.
    Each carries the person's own registration (``my_registration``), so marking them costs no call."""
    now = datetime.now(UTC).isoformat()
    upcoming: list[dict[str, Any]] = []
    for network in networks:
        answer: dict[str, Any] = page.api.get(api_path("/v1/networks/{}/sessions", network['id']), starts_from=now,
                                              status="planned", page_size=UPCOMING_SHOWN)
        upcoming.extend({**session, "network_name": network.get("name", "")} for session in answer.get("items", []))
    return sorted(upcoming, key=lambda session: parsed(session["starts_at"]))[:UPCOMING_SHOWN]


@router.get("/", response_class=HTMLResponse)
def home(page: SignedInPage) -> HTMLResponse:
    networks = my_networks(page)
    return page.render("home.html", title=page.t("home.title"), networks=networks,
                       upcoming=upcoming_sessions(page, networks), operator=bool(page.me().get("operator")))
