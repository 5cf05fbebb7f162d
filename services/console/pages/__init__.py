"""The console's pages, one module per part; each has a ``router``, listed in :data:`ROUTERS`."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.pages import home, me, networks, operator, outputs, sessions

ROUTERS: tuple[APIRouter, ...] = (home.router, me.router, operator.router, networks.router, sessions.router,
                                  outputs.router)
