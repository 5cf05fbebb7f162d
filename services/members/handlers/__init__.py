"""Command and query handlers: load through the unit of work, apply the domain, commit. A few lines each."""

from services.members.handlers.audit import audit_entries
from services.members.handlers.members import (
    erase_member,
    export_member,
    find_expertise,
    find_experts,
    get_member,
    health,
    member_view,
    register_member,
    search_members,
    update_member,
)
from services.members.handlers.memberships import appoint_creator, join_network, leave_network
from services.members.handlers.questions import (
    answer_question,
    ask_question,
    decline_question,
    get_question,
    list_questions,
)
from services.members.handlers.tokens import (
    TOKEN_PREFIX,
    authenticate,
    hash_token,
    issue_token,
    revoke_token,
    sign_in,
)

__all__ = [
    "TOKEN_PREFIX", "answer_question", "appoint_creator", "ask_question", "audit_entries", "authenticate",
    "decline_question",
    "erase_member", "export_member", "find_expertise", "find_experts", "get_member", "get_question", "hash_token",
    "health", "issue_token", "join_network", "leave_network", "list_questions", "member_view", "register_member",
    "revoke_token", "search_members", "sign_in", "update_member",
]
