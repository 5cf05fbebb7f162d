"""The federation relay (``kring relay``): the only way outputs cross from another Kring instance to this one.

One follower per configured peer (:mod:`.follower`) follows the peer's ``StreamOutputs`` from the cursor stored
in this instance's federation database, hands each batch of entries to the federation service (which applies
them and stores the cursor in one transaction), and keeps links whose other side is on the peer in step
(:mod:`.links`). :mod:`.main` runs the process: no eventlet (grpcio hangs under it), a grpcio client per peer
(:mod:`.peer_client`), and nameko standalone RPC to this instance's federation service. :mod:`.peer_links` asks
a peer for its side of a new link, with the same client, for the admin API.
"""
