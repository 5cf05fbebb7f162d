"""nameko entrypoints of the members service: parse, call the handler, return JSON. Nothing else.

A call whose answer depends on who asks carries the caller (:class:`services.common.caller.Caller`) first.
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from services.common.audit import AuditQuery
from services.common.caller import Caller
from services.common.domain_gauges import DomainGauges
from services.common.nameko_kit import Observability, ServiceDatabase, command, parse_request, query
from services.common.schemas import answer
from services.members import gauges, handlers
from services.members.adapters import RpcNetworkDirectory
from services.members.schemas import (
    AnswerQuestion,
    AskQuestion,
    DeclineQuestion,
    FindExpertise,
    FindExperts,
    IssueToken,
    JoinNetwork,
    ListQuestions,
    RegisterMember,
    SearchMembers,
    SignIn,
    UpdateMember,
)
from services.members.unit_of_work import MembersUnitOfWork

Json = dict[str, Any]


class MembersService:
    name = "members"

    uow = ServiceDatabase(MembersUnitOfWork)
    observability = Observability()
    domain_gauges = DomainGauges(gauges.QUERY)
    networks = RpcProxy("networks")

    @command
    def register_member(self, caller: Json, request: Json) -> Json:
        return answer(handlers.register_member(Caller.of(caller), parse_request(RegisterMember, request), self.uow()))

    @command
    def update_member(self, caller: Json, member_id: str, request: Json) -> Json:
        cmd = parse_request(UpdateMember, request)
        return answer(handlers.update_member(Caller.of(caller), member_id, cmd, self.uow()))

    @query
    def get_member(self, caller: Json, member_id: str) -> Json:
        return answer(handlers.get_member(Caller.of(caller), member_id, self.uow()))

    @query
    def search_members(self, caller: Json, query: Json) -> Json:
        return answer(handlers.search_members(Caller.of(caller), parse_request(SearchMembers, query), self.uow()))

    @query
    def find_expertise(self, query: Json) -> Json:
        return answer(handlers.find_expertise(parse_request(FindExpertise, query), self.uow()))

    @query
    def find_experts(self, caller: Json, query: Json) -> Json:
        return answer(handlers.find_experts(Caller.of(caller), parse_request(FindExperts, query), self.uow()))

    @command
    def ask_question(self, caller: Json, request: Json) -> Json:
        return answer(handlers.ask_question(Caller.of(caller), parse_request(AskQuestion, request), self.uow()))

    @command
    def answer_question(self, caller: Json, question_id: str, request: Json) -> Json:
        cmd = parse_request(AnswerQuestion, request)
        return answer(handlers.answer_question(Caller.of(caller), question_id, cmd, self.uow()))

    @command
    def decline_question(self, caller: Json, question_id: str, request: Json) -> Json:
        cmd = parse_request(DeclineQuestion, request)
        return answer(handlers.decline_question(Caller.of(caller), question_id, cmd, self.uow()))

    @query
    def get_question(self, caller: Json, question_id: str) -> Json:
        return answer(handlers.get_question(Caller.of(caller), question_id, self.uow()))

    @query
    def list_questions(self, caller: Json, query: Json) -> Json:
        return answer(handlers.list_questions(Caller.of(caller), parse_request(ListQuestions, query), self.uow()))

    @command
    def join_network(self, caller: Json, member_id: str, network_id: str, request: Json) -> Json:
        cmd, directory = parse_request(JoinNetwork, request), RpcNetworkDirectory(self.networks)
        return answer(handlers.join_network(Caller.of(caller), member_id, network_id, cmd, self.uow(), directory))

    @command
    def appoint_creator(self, caller: Json, network_id: str) -> Json | None:
        """After the caller created ``network_id``: they become its coordinator (the members service's rule)."""
        directory = RpcNetworkDirectory(self.networks)
        membership = handlers.appoint_creator(Caller.of(caller), network_id, self.uow(), directory)
        return None if membership is None else answer(membership)

    @command
    def leave_network(self, caller: Json, member_id: str, network_id: str) -> None:
        handlers.leave_network(Caller.of(caller), member_id, network_id, self.uow())

    @query
    def export_member(self, caller: Json, member_id: str) -> Json:
        return answer(handlers.export_member(Caller.of(caller), member_id, self.uow()))

    @command
    def erase_member(self, caller: Json, member_id: str) -> Json:
        return answer(handlers.erase_member(Caller.of(caller), member_id, self.uow()))

    @command(shown_once=("token",))
    def issue_token(self, caller: Json, member_id: str, request: Json) -> Json:
        cmd = parse_request(IssueToken, request)
        return answer(handlers.issue_token(Caller.of(caller), member_id, cmd, self.uow()))

    @command(shown_once=("token",))
    def sign_in(self, request: Json) -> Json:
        """A token for a verified sign-in; only the gateway calls it, for the sign-in broker's token."""
        return answer(handlers.sign_in(parse_request(SignIn, request), self.uow()))

    @command
    def revoke_token(self, caller: Json, token_id: str) -> None:
        handlers.revoke_token(Caller.of(caller), token_id, self.uow())

    @query
    def authenticate(self, token_hash: str) -> Json:
        return answer(handlers.authenticate(token_hash, self.uow()))

    @query
    def audit_entries(self, caller: Json, query: Json) -> Json:
        return answer(handlers.audit_entries(Caller.of(caller), parse_request(AuditQuery, query), self.uow()))

    @query
    def health(self) -> Json:
        return answer(handlers.health(self.uow()))


SERVICE = MembersService
