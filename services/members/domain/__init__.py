"""The members service's rules, as plain Python: a member, their memberships and consent; questions to experts."""

from services.members.domain import access
from services.members.domain.member import ERASED_NAME, Member, Membership, email_taken
from services.members.domain.question import ExpertQuestion

__all__ = ["ERASED_NAME", "ExpertQuestion", "Member", "Membership", "access", "email_taken"]
