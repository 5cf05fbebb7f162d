"""``/v1/audit``: the audit log, the operator's only: who did what with people's data or with trust.

Each service that owns audited actions keeps its own log (services/common/audit.py) and answers a page of it,
newest first, to the operator (``audit_entries``; anyone else gets 403 from the service). The gateway asks each
of them from the same position and merges the pages by (at, id): it never reads their tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from services.common.audit import MAX_PAGE, AuditAction, AuditPage, AuditQuery, merge_pages
from services.common.rpc_client import RpcCaller
from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)

# The services that record audited actions, each answering ``audit_entries``.
AUDITED_SERVICES = ("members", "federation")
EXPORT_PAGE = MAX_PAGE

ActionQuery = Annotated[AuditAction | None, Query(description="only this action (the closed list in README)")]
SinceQuery = Annotated[AwareDatetime | None, Query(description="entries at or after this moment, with a UTC offset")]
UntilQuery = Annotated[AwareDatetime | None, Query(description="entries before this moment, with a UTC offset")]
TargetQuery = Annotated[str | None, Query(min_length=1, max_length=100,
                                          description="entries about this member, network, link, partner or "
                                                      "instance id")]


def _query(action: str | None, since: AwareDatetime | None, until: AwareDatetime | None, target_id: str | None,
           page_size: int, page_token: str | None) -> AuditQuery:
    """The filters as the services take them (bad ones are a 422 naming the field)."""
    return AuditQuery.model_validate({"action": action, "since": since, "until": until, "target_id": target_id,
                                      "page_size": page_size, "page_token": page_token})


def _page(rpc: RpcCaller, caller: dict[str, Any], query: AuditQuery) -> AuditPage:
    wire = query.model_dump(mode="json", exclude_none=True)
    pages = [AuditPage.model_validate(rpc.call(service, "audit_entries", caller, wire))
             for service in AUDITED_SERVICES]
    return merge_pages(pages, query.page_size)


@router.get("", response_model=AuditPage, summary="Read the audit log",
            description="The operator's only. Newest first, from every service that records audited actions; "
                        "paged with `page_size` and `page_token`. A member erased since shows as "
                        "`{\"kind\": \"member\", \"id\": null, \"erased\": true}`.")
def read_audit(
    caller: Caller,
    rpc: Rpc,
    action: ActionQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    target_id: TargetQuery = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    query = _query(action, since, until, target_id, page_size, page_token)
    return _page(rpc, caller.wire(), query).model_dump(mode="json")


@router.get("/export", summary="Export the audit log as NDJSON",
            description="The operator's only. Every entry matching the filters, newest first, one JSON object a "
                        "line (`application/x-ndjson`), read from the services page by page as it is sent.",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "one audit entry (as in `GET /v1/audit`) per line"}})
def export_audit(
    caller: Caller,
    rpc: Rpc,
    action: ActionQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    target_id: TargetQuery = None,
) -> StreamingResponse:
    query = _query(action, since, until, target_id, EXPORT_PAGE, None)
    wire = caller.wire()
    first = _page(rpc, wire, query)  # before answering: a refusal is still a 403, not a broken stream

    def lines() -> Iterator[bytes]:
        page = first
        while True:
            for entry in page.items:
                yield (json.dumps(entry.model_dump(mode="json"), ensure_ascii=False) + "\n").encode()
            if page.next_page_token is None:
                return
            page = _page(rpc, wire, query.model_copy(update={"page_token": page.next_page_token}))

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": 'attachment; filename="kring-audit.ndjson"'})
