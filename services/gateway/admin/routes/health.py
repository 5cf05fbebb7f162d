"""Liveness and readiness probes (outside /v1: they are for Kubernetes and load balancers, not clients)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.gateway.admin.deps import get_readiness
from services.gateway.shared.readiness import Readiness

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get("/healthz", response_model=Health, summary="The process is alive (checks no dependency)")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, summary="RabbitMQ and every service (with its database) answer",
            responses={503: {"model": Health, "description": "not ready; checks say which dependency failed"}})
def readyz(readiness: Annotated[Readiness, Depends(get_readiness)]) -> JSONResponse:
    report = readiness.check()
    body = Health(status="ready" if report.ready else "not_ready", checks=report.checks)
    return JSONResponse(body.model_dump(), status_code=200 if report.ready else 503)
