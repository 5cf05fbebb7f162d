"""A partner organisation's gRPC client, as the e2e and security tests use the partner API.

The generated stub with the partner's key sent as ``authorization: Bearer <key>`` metadata (or no credential at
all, for a caller without one). Methods are called by name (``client.PublishOutput(request)``) with a deadline;
``call`` gives a unary call's answer or a stream's first item.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from services.api.kring.v1 import federation_pb2_grpc

TIMEOUT = 10.0  # seconds for a unary call


class PartnerClient:
    """``credentials``: TLS (and a client certificate) for a gateway serving TLS; ``server_name``: the name its
    certificate must carry when ``target`` is an address."""

    def __init__(self, target: str, key: str | None, credentials: grpc.ChannelCredentials | None = None,
                 server_name: str | None = None):
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        self.channel = grpc.secure_channel(target, credentials, options=options) if credentials is not None else \
            grpc.insecure_channel(target)
        self.stub = federation_pb2_grpc.FederationStub(self.channel)
        self.key = key

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.key}"),) if self.key else ()

    def __getattr__(self, method: str) -> Callable[..., Any]:
        rpc = getattr(self.stub, method)
        return lambda request, **kw: rpc(request, metadata=self.metadata, timeout=kw.pop("timeout", TIMEOUT), **kw)

    def call(self, method: str, request: Any, timeout: float = TIMEOUT) -> Any:
        """A unary call's answer, or a stream's first item; raises grpc.RpcError."""
        answer = getattr(self.stub, method)(request, metadata=self.metadata, timeout=timeout)
        if isinstance(answer, grpc.Call) and hasattr(answer, "__next__"):
            try:
                return next(answer)
            finally:
                answer.cancel()
        return answer

    def close(self) -> None:
        self.channel.close()
