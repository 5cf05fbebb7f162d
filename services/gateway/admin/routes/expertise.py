"""``/v1/expertise``: who knows what, within the networks the caller belongs to ("weten wie wat weet").

The members service decides the scope (services/members/domain/access.py) and applies consent: only members who
consented to be found appear, never with an email address. The route passes the caller and the query.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.gateway.admin.deps import Caller, Rpc
from services.gateway.admin.errors import ERROR_RESPONSES
from services.members.schemas import ExpertiseTag, NetworkExpertPage, NetworkId

router = APIRouter(prefix="/v1/expertise", tags=["expertise"], responses=ERROR_RESPONSES)


@router.get("", response_model=NetworkExpertPage, summary="Find who knows about something in your networks",
            description="Members who consented to be found by expertise, in the networks you belong to (or the one "
                        "you name, if you are in it); never an email address. Ask one of them a question with "
                        "`POST /v1/questions`.")
def find_experts(
    caller: Caller,
    rpc: Rpc,
    tag: Annotated[ExpertiseTag | None, Query(description="one expertise tag; none: every findable expert")] = None,
    network_id: Annotated[NetworkId | None, Query(description="only this network (one you are in)")] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    query: dict[str, Any] = {"page_size": page_size}
    for key, value in (("tag", tag), ("network_id", network_id), ("page_token", page_token)):
        if value is not None:
            query[key] = value
    answer: dict[str, Any] = rpc.call("members", "find_experts", caller.wire(), query)
    return answer
