"""A gRPC client run as its own process: ``python -m tests.e2e.grpc_probe HOST:PORT`` prints one JSON report.

It asks what a partner's first calls would: health of the server and of kring.v1.Federation, the services
listed by reflection, GetInstance (with a correlation id, to see it echoed), and an unknown method.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.api.kring.v1 import federation_pb2, federation_pb2_grpc

TIMEOUT = 5.0


def report(target: str) -> dict[str, Any]:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        health = health_pb2_grpc.HealthStub(channel)
        result: dict[str, Any] = {"health": {
            name or "(server)": health_pb2.HealthCheckResponse.ServingStatus.Name(
                health.Check(health_pb2.HealthCheckRequest(service=name), timeout=TIMEOUT).status)
            for name in ("", "kring.v1.Federation")
        }}
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        answers = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                  timeout=TIMEOUT)
        result["services"] = sorted(s.name for answer in answers for s in answer.list_services_response.service)
        federation = federation_pb2_grpc.FederationStub(channel)
        instance, call = federation.GetInstance.with_call(federation_pb2.GetInstanceRequest(), timeout=TIMEOUT,
                                                          metadata=(("x-correlation-id", "probe-1"),))
        result["instance"] = {"id": instance.id, "name": instance.name, "version": instance.version,
                              "api_version": instance.api_version}
        result["instance_correlation_id"] = dict(call.initial_metadata()).get("x-correlation-id")
        unknown = channel.unary_unary("/kring.v1.Federation/NoSuchMethod")
        try:
            unknown(b"", timeout=TIMEOUT)
            result["unknown_method"] = "OK"
        except grpc.RpcError as exc:
            result["unknown_method"] = exc.code().name
    return result


if __name__ == "__main__":
    print(json.dumps(report(sys.argv[1])))
