from sqlalchemy import Connection

from services.common.uow import SqlUnitOfWork
from services.federation import models
from services.federation.partner_repository import Partners
from services.federation.repository import Blocks, Feeds, LinkRepository, NetworkDirectory, Outputs


class FederationUnitOfWork(SqlUnitOfWork):
    outbox = models.outbox
    processed = models.processed_events
    repositories = ("links",)

    links: LinkRepository
    networks: NetworkDirectory
    blocks: Blocks
    outputs: Outputs
    feeds: Feeds
    partners: Partners

    def start(self, connection: Connection) -> None:
        self.links = LinkRepository(connection)
        self.networks = NetworkDirectory(connection)
        self.blocks = Blocks(connection)
        self.outputs = Outputs(connection)
        self.feeds = Feeds(connection)
        self.partners = Partners(connection)
