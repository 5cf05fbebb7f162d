"""The operator's pages: partners and their keys, peer instances and their directories, and the audit log.

Every call here is one only the operator may make; for anyone else the API answers 403 and the console draws
that refusal (app.py), so these pages need no check of their own. A partner's new API key is in the answer to
registering or rotating: it is drawn on that one response page and nowhere else (not in the session, not in a
redirect, not in a log).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.console.api import ApiError, api_path
from services.console.dates import end_of_day, start_of_day
from services.console.web import Page, PostedForm, SignedInPage

router = APIRouter()

AUDIT_ACTIONS = (
    "member.exported", "member.erased", "token.issued", "token.revoked", "partner.registered",
    "partner.key_rotated", "partner.revoked", "partner.blocked", "peer.configured", "peer.removed",
    "network.blocked", "link.accepted", "link.rejected", "link.revoked", "link.policy_set",
)
SECRET_FIELDS = ("api_key",)  # typed by the operator: never drawn back into a form, nor kept anywhere


def errors_of(refused: ApiError, lists: tuple[str, ...] = ()) -> dict[str, str]:
    """The API's errors by field, those on an item of a list field (``network_ids.2``) on the list's input; a
    refusal without a field (a 409 on a state) as one general problem."""
    errors: dict[str, str] = {}
    for name, message in refused.field_errors.items():
        head = name.split(".", 1)[0]
        errors.setdefault(head if head in lists else name, message)
    return errors or {"": refused.message}


def ids_of(text: str) -> list[str]:
    """Ids typed one per line, or separated by commas or spaces."""
    return [part for part in re.split(r"[\s,]+", text) if part]


def refused_input(refused: ApiError) -> bool:
    return refused.status in (409, 422)


# --- partners --------------------------------------------------------------------------------------------------


def render_partners(page: Page, *, status: int = 200, errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None) -> HTMLResponse:
    partners: dict[str, Any] = page.api.get("/v1/partners")
    return page.render("operator_partners.html", status=status, errors=errors, values=values,
                       title=page.t("operator.partners.title"), partners=partners.get("items", []))


@router.get("/operator/partners", response_class=HTMLResponse)
def partners(page: SignedInPage) -> HTMLResponse:
    return render_partners(page)


def key_page(page: Page, partner: dict[str, Any], *, rotated: bool) -> HTMLResponse:
    """The new key, drawn once in this response (the console keeps no copy; the page is never cached)."""
    return page.render("operator_partner_key.html", status=201, title=page.t("operator.key.title"),
                       partner=partner, rotated=rotated)


@router.post("/operator/partners", response_model=None)
def register_partner(page: SignedInPage, form: PostedForm) -> Response:
    kind = form.text("kind") or "organisation"
    body: dict[str, Any] = {"name": form.text("name"), "kind": kind}
    if kind == "instance":
        body["instance_id"] = form.optional("instance_id")
    else:
        body["network_ids"] = ids_of(form.text("network_ids"))
    try:
        partner: dict[str, Any] = page.api.post("/v1/partners", body, form_key=form.key)
    except ApiError as refused:
        if not refused_input(refused):
            raise
        return render_partners(page, status=refused.status, errors=errors_of(refused, ("network_ids",)),
                               values=form.values)
    return key_page(page, partner, rotated=False)


def render_partner(page: Page, partner_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                   values: dict[str, Any] | None = None) -> HTMLResponse:
    partner: dict[str, Any] = page.api.get(api_path("/v1/partners/{}", partner_id))
    return page.render("operator_partner.html", status=status, errors=errors, values=values,
                       title=page.t("operator.partner.title", name=partner["name"]), partner=partner)


@router.get("/operator/partners/{partner_id}", response_class=HTMLResponse)
def partner(page: SignedInPage, partner_id: str) -> HTMLResponse:
    return render_partner(page, partner_id)


@router.post("/operator/partners/{partner_id}/rotate-key", response_model=None)
def rotate_key(page: SignedInPage, partner_id: str, form: PostedForm) -> Response:
    try:
        partner: dict[str, Any] = page.api.post(api_path("/v1/partners/{}/rotate-key", partner_id), form_key=form.key)
    except ApiError as refused:
        if not refused_input(refused):
            raise
        return render_partner(page, partner_id, status=refused.status, errors=errors_of(refused))
    return key_page(page, partner, rotated=True)


@router.post("/operator/partners/{partner_id}/revoke", response_model=None)
def revoke_partner(page: SignedInPage, partner_id: str, form: PostedForm) -> Response:
    try:
        page.api.post(api_path("/v1/partners/{}/revoke", partner_id), form_key=form.key)
    except ApiError as refused:
        if not refused_input(refused):
            raise
        return render_partner(page, partner_id, status=refused.status, errors=errors_of(refused))
    return page.redirect(f"/operator/partners/{partner_id}", notice=page.t("operator.partner.revoked"))


@router.post("/operator/partners/{partner_id}/block", response_model=None)
def block_partner(page: SignedInPage, partner_id: str, form: PostedForm) -> Response:
    body = {"reason": form.text("reason")} if form.optional("reason") else {}
    try:
        page.api.post(api_path("/v1/partners/{}/block", partner_id), body, form_key=form.key)
    except ApiError as refused:
        if not refused_input(refused):
            raise
        return render_partner(page, partner_id, status=refused.status, errors=errors_of(refused),
                              values=form.values)
    return page.redirect(f"/operator/partners/{partner_id}", notice=page.t("operator.partner.blocked"))


# --- peers -----------------------------------------------------------------------------------------------------


def render_peers(page: Page, *, status: int = 200, errors: dict[str, str] | None = None,
                 values: dict[str, Any] | None = None) -> HTMLResponse:
    peers: dict[str, Any] = page.api.get("/v1/peers")
    return page.render("operator_peers.html", status=status, errors=errors, values=values,
                       title=page.t("operator.peers.title"), peers=peers.get("items", []))


@router.get("/operator/peers", response_class=HTMLResponse)
def peers(page: SignedInPage) -> HTMLResponse:
    return render_peers(page)


@router.post("/operator/peers", response_model=None)
def add_peer(page: SignedInPage, form: PostedForm) -> Response:
    mode = form.text("transport.mode") or "tls"
    transport: dict[str, Any] = {"mode": mode}
    if mode == "tls":
        for name in ("ca_bundle", "server_name"):
            if form.optional(f"transport.{name}"):
                transport[name] = form.text(f"transport.{name}")
        transport["client_certificate"] = form.checked("transport.client_certificate")
    body: dict[str, Any] = {"instance_id": form.text("instance_id"), "name": form.text("name"),
                            "address": form.text("address"), "api_key": form.text("api_key"), "transport": transport}
    if form.optional("local_network_ids"):
        body["local_network_ids"] = ids_of(form.text("local_network_ids"))
    try:
        page.api.post("/v1/peers", body, form_key=form.key)
    except ApiError as refused:
        if not refused_input(refused):
            raise
        typed = {name: value for name, value in form.values.items() if name not in SECRET_FIELDS}
        return render_peers(page, status=refused.status, errors=errors_of(refused, ("local_network_ids",)),
                            values=typed)
    return page.redirect(f"/operator/peers/{body['instance_id']}", notice=page.t("operator.peers.added"))


def render_peer(page: Page, instance_id: str, *, status: int = 200,
                errors: dict[str, str] | None = None) -> HTMLResponse:
    peer: dict[str, Any] = page.api.get(api_path("/v1/peers/{}", instance_id))
    directory: dict[str, Any] = page.api.get(api_path("/v1/peers/{}/networks", instance_id))
    return page.render("operator_peer.html", status=status, errors=errors, title=page.t("operator.peer.title",
                       name=peer["name"]), peer=peer, directory=directory.get("items", []))


@router.get("/operator/peers/{instance_id}", response_class=HTMLResponse)
def peer(page: SignedInPage, instance_id: str) -> HTMLResponse:
    return render_peer(page, instance_id)


@router.post("/operator/peers/{instance_id}/remove", response_model=None)
def remove_peer(page: SignedInPage, instance_id: str, form: PostedForm) -> Response:
    page.api.delete(api_path("/v1/peers/{}", instance_id), form_key=form.key)
    return page.redirect("/operator/peers", notice=page.t("operator.peer.removed"))


def approval(page: Page, instance_id: str, network_id: str, action: str, form: PostedForm, notice: str) -> Response:
    try:
        page.api.post(api_path("/v1/peers/{}/networks/{}/{}", instance_id, network_id, action), form_key=form.key)
    except ApiError as refused:
        if not refused_input(refused):
            raise
        return render_peer(page, instance_id, status=refused.status, errors=errors_of(refused))
    return page.redirect(f"/operator/peers/{instance_id}", notice=page.t(notice))


@router.post("/operator/peers/{instance_id}/networks/{network_id}/approve", response_model=None)
def approve(page: SignedInPage, instance_id: str, network_id: str, form: PostedForm) -> Response:
    return approval(page, instance_id, network_id, "approve", form, "operator.peer.approved")


@router.post("/operator/peers/{instance_id}/networks/{network_id}/withdraw-approval", response_model=None)
def withdraw_approval(page: SignedInPage, instance_id: str, network_id: str, form: PostedForm) -> Response:
    return approval(page, instance_id, network_id, "withdraw-approval", form, "operator.peer.withdrawn")


# --- audit log -----------------------------------------------------------------------------------------------------


def moment(value: str | None, end: bool) -> str | None:
    """A day filter as the moment the API takes: from the start of "since", up to and including "until" (local
    days, as a person means them). Anything else goes as typed, for the API to refuse naming the field."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return (end_of_day(day) if end else start_of_day(day)).isoformat()


@router.get("/operator/audit", response_class=HTMLResponse)
def audit(page: SignedInPage, action: str | None = None, since: str | None = None, until: str | None = None,
          target_id: str | None = None, page_token: str | None = None) -> HTMLResponse:
    values = {"action": action or "", "since": since or "", "until": until or "", "target_id": target_id or ""}
    status, errors, entries, next_token = 200, {}, [], None
    try:
        found: dict[str, Any] = page.api.get(
            "/v1/audit", action=action or None, since=moment(since, end=False), until=moment(until, end=True),
            target_id=target_id or None, page_token=page_token or None)
        entries, next_token = list(found.get("items", [])), found.get("next_page_token")
    except ApiError as refused:
        if refused.status != 422:
            raise
        status, errors = 422, errors_of(refused)
    return page.render("operator_audit.html", status=status, errors=errors, values=values,
                       title=page.t("operator.audit.title"), entries=entries, next_token=next_token,
                       actions=AUDIT_ACTIONS, paged=bool(page_token))
