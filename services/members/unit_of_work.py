from sqlalchemy import Connection

from services.common.uow import SqlUnitOfWork
from services.members import models
from services.members.repository import MemberRepository, QuestionRepository, TokenRepository


class MembersUnitOfWork(SqlUnitOfWork):
    outbox = models.outbox
    processed = models.processed_events
    commands = models.processed_commands
    repositories = ("members", "questions")

    members: MemberRepository
    tokens: TokenRepository
    questions: QuestionRepository

    def start(self, connection: Connection) -> None:
        self.members = MemberRepository(connection)
        self.tokens = TokenRepository(connection)
        self.questions = QuestionRepository(connection)
