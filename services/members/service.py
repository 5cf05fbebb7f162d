"""nameko entrypoints of the members service: parse, call the handler, return JSON. Nothing else."""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from services.common.domain_gauges import DomainGauges
from services.common.nameko_kit import Observability, ServiceDatabase, command, parse_request, query
from services.members import gauges, handlers
from services.members.adapters import RpcNetworkDirectory
from services.members.schemas import (
    FindExpertise,
    IssueToken,
    JoinNetwork,
    RegisterMember,
    SearchMembers,
    UpdateMember,
)
from services.members.unit_of_work import MembersUnitOfWork


class MembersService:
    name = "members"

    uow = ServiceDatabase(MembersUnitOfWork)
    observability = Observability()
    domain_gauges = DomainGauges(gauges.QUERY)
    networks = RpcProxy("networks")

    @command
    def register_member(self, request: dict[str, Any]) -> dict[str, Any]:
        return handlers.register_member(parse_request(RegisterMember, request), self.uow()).model_dump(mode="json")

    @command
    def update_member(self, member_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(UpdateMember, request)
        return handlers.update_member(member_id, cmd, self.uow()).model_dump(mode="json")

    @query
    def get_member(self, member_id: str) -> dict[str, Any]:
        return handlers.get_member(member_id, self.uow()).model_dump(mode="json")

    @query
    def search_members(self, query: dict[str, Any]) -> dict[str, Any]:
        return handlers.search_members(parse_request(SearchMembers, query), self.uow()).model_dump(mode="json")

    @query
    def find_expertise(self, query: dict[str, Any]) -> dict[str, Any]:
        return handlers.find_expertise(parse_request(FindExpertise, query), self.uow()).model_dump(mode="json")

    @command
    def join_network(self, member_id: str, network_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(JoinNetwork, request)
        directory = RpcNetworkDirectory(self.networks)
        return handlers.join_network(member_id, network_id, cmd, self.uow(), directory).model_dump(mode="json")

    @command
    def leave_network(self, member_id: str, network_id: str) -> None:
        handlers.leave_network(member_id, network_id, self.uow())

    @query
    def export_member(self, member_id: str) -> dict[str, Any]:
        return handlers.export_member(member_id, self.uow()).model_dump(mode="json")

    @command
    def erase_member(self, member_id: str) -> dict[str, Any]:
        return handlers.erase_member(member_id, self.uow()).model_dump(mode="json")

    @command(shown_once=("token",))
    def issue_token(self, member_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(IssueToken, request)
        return handlers.issue_token(member_id, cmd, self.uow()).model_dump(mode="json")

    @command
    def revoke_token(self, token_id: str) -> None:
        handlers.revoke_token(token_id, self.uow())

    @query
    def authenticate(self, token_hash: str) -> dict[str, Any]:
        return handlers.authenticate(token_hash, self.uow()).model_dump(mode="json")

    @query
    def health(self) -> dict[str, Any]:
        return handlers.health(self.uow()).model_dump(mode="json")


SERVICE = MembersService
