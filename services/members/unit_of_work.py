from sqlalchemy import Connection

from services.common.audit import SqlAuditLog
from services.common.uow import SqlUnitOfWork
from services.members import models
from services.members.repository import MemberRepository, QuestionRepository, TokenRepository


class MembersUnitOfWork(SqlUnitOfWork):
    outbox = models.outbox
    processed = models.processed_events
    commands = models.processed_commands
    audit_tables = models.audit
    repositories = ("members", "questions")

    members: MemberRepository
    tokens: TokenRepository
    questions: QuestionRepository
    audit: SqlAuditLog

    def start(self, connection: Connection) -> None:
        self.members = MemberRepository(connection)
        self.tokens = TokenRepository(connection)
        self.questions = QuestionRepository(connection)
        self.audit = SqlAuditLog(connection, self.audit_tables, lambda: (self.correlation_id, self.request_id))
