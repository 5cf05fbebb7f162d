from sqlalchemy import Connection

from services.common.audit import SqlAuditLog
from services.common.catalogue import AppendedEntries, FeedAppendedWithEntries
from services.common.config import get_settings
from services.common.keys_at_rest import KeysAtRest, configured_keys
from services.common.uow import SqlUnitOfWork
from services.federation import models
from services.federation.log_pages import shared_log_page
from services.federation.partners.repository import Partners
from services.federation.peers.repository import FeedHeads, PeerDirectory, PeerLinks, Peers, RemoteNetworks
from services.federation.read_models import FederationReadModels
from services.federation.repository import Blocks, Feeds, LinkRepository, Outputs

# At most this many log entries ride on a ``feed.appended`` event (an output shared with as many networks, a few
# hundred KiB); a transaction that appends more sends the networks alone.
CARRIED_ENTRIES = 2000


class FederationUnitOfWork(SqlUnitOfWork):
    outbox = models.outbox
    processed = models.processed_events
    commands = models.processed_commands
    audit_tables = models.audit
    repositories = ("links",)

    links: LinkRepository
    read_models: FederationReadModels
    blocks: Blocks
    outputs: Outputs
    feeds: Feeds
    partners: Partners
    peers: Peers
    peer_links: PeerLinks
    remote_networks: RemoteNetworks
    peer_directory: PeerDirectory
    feed_heads: FeedHeads
    audit: SqlAuditLog
    # The keys peer API keys are encrypted with at rest: KRING_FEDERATION_KEYS unless set here (tests).
    peer_keys: KeysAtRest | None = None

    def start(self, connection: Connection) -> None:
        self.links = LinkRepository(connection)
        self.read_models = FederationReadModels(connection)
        self.blocks = Blocks(connection)
        self.outputs = Outputs(connection)
        self.feeds = Feeds(connection)
        self.partners = Partners(connection)
        self.peers = Peers(connection, self.peer_keys or configured_keys(get_settings().federation_keys))
        self.peer_links = PeerLinks(connection)
        self.remote_networks = RemoteNetworks(connection)
        self.peer_directory = PeerDirectory(connection)
        self.feed_heads = FeedHeads(connection)
        self.audit = SqlAuditLog(connection, self.audit_tables, lambda: (self.correlation_id, self.request_id))

    def collect_from_repositories(self) -> None:
        """Also record ``feed.appended`` for the networks whose feed log this transaction grew, with the entries
        themselves when they are few enough to carry: open partner streams are woken by the event rather than by
        polling the log, and a gateway that holds the log up to the first of them needs no read at all."""
        super().collect_from_repositories()
        if self.connection is not None:
            appended = self.feeds.take_appended()
            if appended.network_ids:
                self.add_event(FeedAppendedWithEntries(network_ids=appended.network_ids,
                                                       entries=self._entries(appended.positions)))

    def _entries(self, positions: list[int]) -> AppendedEntries | None:
        """The entries at these positions as ``log_after`` reads them, or None when there are too many to carry
        (a gateway then reads the log, as it did before events carried entries)."""
        if not positions or len(positions) > CARRIED_ENTRIES:
            return None
        first, last = positions[0], positions[-1]
        page = shared_log_page(self.feeds.log_between(first, last), first - 1)
        return AppendedEntries.model_validate({**page.model_dump(), "after": first - 1})

    def rollback(self) -> None:
        super().rollback()
        if self.connection is not None:
            self.feeds.forget_appended()  # what was undone was not appended
