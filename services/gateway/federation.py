"""The ``kring.v1.Federation`` servicer: the partner API.

Methods stay thin, like nameko entrypoints: read the request, call a service through the RPC pool, build
the reply. They raise typed errors (:mod:`services.common.errors`); the interceptor in
:mod:`services.gateway.grpc_server` turns those into statuses and sets the correlation id, so a new
method needs neither.
"""

from __future__ import annotations

import grpc

from services.api.kring.v1 import federation_pb2, federation_pb2_grpc
from services.common.config import Settings
from services.gateway.rpc_pool import RpcCaller
from services.gateway.version import API_VERSION, kring_version

SERVICE_NAME = federation_pb2.DESCRIPTOR.services_by_name["Federation"].full_name


class FederationServicer(federation_pb2_grpc.FederationServicer):
    def __init__(self, settings: Settings, rpc: RpcCaller) -> None:
        self.settings = settings
        self.rpc = rpc  # the partner methods of later issues call the services through this

    def GetInstance(  # the name is fixed by the proto
        self, request: federation_pb2.GetInstanceRequest, context: grpc.ServicerContext
    ) -> federation_pb2.Instance:
        return federation_pb2.Instance(
            id=self.settings.instance_id,
            name=self.settings.instance_name,
            version=kring_version(),
            api_version=API_VERSION,
        )
