"""The members service's audit log, read by the operator (services/common/audit.py)."""

from __future__ import annotations

from services.common.audit import AuditPage, AuditQuery, read_entries
from services.common.caller import Caller
from services.members.ports import MembersUoW


def audit_entries(caller: Caller, query: AuditQuery, uow: MembersUoW) -> AuditPage:
    """A page of the members service's audit log: the operator's only."""
    with uow:
        return read_entries(caller, query, uow.audit, "members")
