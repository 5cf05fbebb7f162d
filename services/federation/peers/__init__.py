"""Between instances, on the federation service's side: the peers this instance follows, the entries the relay
brings from them (:mod:`.ingest`), and links whose other side is on a peer (:mod:`.links`)."""
