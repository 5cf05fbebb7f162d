"""The members service's rules, as plain Python: a member, their memberships and consent."""

from services.members.domain import access
from services.members.domain.member import ERASED_NAME, Member, Membership, email_taken

__all__ = ["ERASED_NAME", "Member", "Membership", "access", "email_taken"]
