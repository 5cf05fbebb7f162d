from sqlalchemy import Connection

from services.common.uow import SqlUnitOfWork
from services.networks import models
from services.networks.read_models import ReadModels
from services.networks.repository import NetworkRepository


class NetworksUnitOfWork(SqlUnitOfWork):
    outbox = models.outbox
    processed = models.processed_events
    commands = models.processed_commands
    repositories = ("networks",)

    networks: NetworkRepository
    read_models: ReadModels

    def start(self, connection: Connection) -> None:
        self.networks = NetworkRepository(connection)
        self.read_models = ReadModels(connection)
