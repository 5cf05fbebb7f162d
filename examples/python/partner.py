"""A Kring partner in Python: the partner gRPC API (kring.v1.Federation) with grpcio, from proto/kring/v1.

    pip install grpcio grpcio-status grpcio-tools
    KRING_PARTNER_KEY=kpk_... KRING_NETWORK_ID=<one of your networks> python partner.py

The code for the API is generated from the proto file when the example starts (``grpc_tools.protoc`` into a
temporary directory), as a partner generates it in their own project. Environment: KRING_GRPC_TARGET (host:port,
default 127.0.0.1:50051), KRING_PARTNER_KEY (the key the operator registered you with: POST /v1/partners),
KRING_NETWORK_ID (one of your networks), KRING_CLIENT_OUTPUT_ID (your own id for the output this example
publishes; default: a new one).

It prints one line per step, the same lines as ../node/partner.js; tests/e2e/test_partner_examples_e2e.py runs
both against a whole stack.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"
DEADLINE = 10.0  # seconds


def generated() -> tuple[Any, Any]:
    """federation_pb2 and federation_pb2_grpc, generated from the proto file into a temporary directory."""
    out = tempfile.mkdtemp(prefix="kring-partner-")
    code = protoc.main(["protoc", f"-I{PROTO_ROOT}", f"-I{Path(protoc.__file__).parent / '_proto'}",
                        f"--python_out={out}", f"--grpc_python_out={out}",
                        str(PROTO_ROOT / "kring" / "v1" / "federation.proto")])
    if code != 0:
        raise SystemExit("failed: protoc could not generate the code")
    sys.path.insert(0, out)
    return importlib.import_module("kring.v1.federation_pb2"), importlib.import_module("kring.v1.federation_pb2_grpc")


def describe(error: grpc.RpcError) -> str:
    """Kring's errors carry google.rpc.Status: ErrorInfo (the reason to switch on), RequestInfo (the correlation
    id to quote) and, where fields are named, BadRequest."""
    found: dict[str, Any] = {}
    status = rpc_status.from_call(error)  # None: refused by the gRPC library itself (FEDERATION.md)
    for detail in status.details if status else ():
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.RequestInfo, error_details_pb2.BadRequest):
            message = kind()
            if detail.Unpack(message):
                found[kind.__name__] = message
    info, request = found.get("ErrorInfo"), found.get("RequestInfo")
    violations = [f"{v.field}:{v.reason}" for v in found["BadRequest"].field_violations] \
        if "BadRequest" in found else []
    return " ".join([error.code().name, f"reason={info.reason if info else None}",
                     f"domain={info.domain if info else None}",
                     f"request_id={request.request_id if request else None}", f"violations={','.join(violations)}"])


def main() -> None:
    pb, pb_grpc = generated()
    target = os.environ.get("KRING_GRPC_TARGET", "127.0.0.1:50051")
    key, network_id = os.environ.get("KRING_PARTNER_KEY"), os.environ.get("KRING_NETWORK_ID")
    if not key or not network_id:
        raise SystemExit("failed: set KRING_PARTNER_KEY and KRING_NETWORK_ID")
    client_output_id = os.environ.get("KRING_CLIENT_OUTPUT_ID") or f"example-python-{time.time_ns()}"
    metadata = (("authorization", f"Bearer {key}"), ("x-correlation-id", f"example-python-{client_output_id}"))

    with grpc.insecure_channel(target) as channel:
        federation = pb_grpc.FederationStub(channel)

        def call(method: str, request: Any) -> Any:
            return getattr(federation, method)(request, metadata=metadata, timeout=DEADLINE)

        instance = federation.GetInstance(pb.GetInstanceRequest(), timeout=DEADLINE)
        print(f"instance {instance.id} {instance.api_version}")

        network = call("GetNetwork", pb.GetNetworkRequest(network_id=network_id))
        print(f"network {network.id} {pb.NetworkLevel.Name(network.level)}")

        output = {"network_id": network_id, "client_output_id": client_output_id, "kind": pb.OUTPUT_KIND_LESSON,
                  "title": "Wat we leerden over eenzaamheid", "body": "Vraag eerst wat iemand zelf wil.",
                  "themes": ["Eenzaamheid"], "visibility": pb.VISIBILITY_LINKED,
                  "authors": ["een ervaringsdeskundige"]}
        published = call("PublishOutput", pb.PublishOutputRequest(**output))
        print(f"published {published.output_id} recipients={published.recipients}")
        again = call("PublishOutput", pb.PublishOutputRequest(**output))  # the same client id: nothing new
        print(f"again {again.output_id}")

        def mine() -> Any:
            listed = call("ListPublishedOutputs", pb.ListPublishedOutputsRequest(network_id=network_id,
                                                                                 page_size=200))
            return next(o for o in listed.outputs
                        if getattr(o, o.WhichOneof("content")).output_id == published.output_id)

        shared = mine()
        print(f"listed {published.output_id} {shared.WhichOneof('content')} themes={','.join(shared.output.themes)}")
        call("RetractOutput", pb.RetractOutputRequest(output_id=published.output_id))
        print(f"retracted {published.output_id} {mine().WhichOneof('content')}")

        for what, method, request in (
                ("unknown", "GetNetwork", pb.GetNetworkRequest(network_id="no-such-network")),
                ("invalid", "PublishOutput", pb.PublishOutputRequest(**{**output, "title": ""}))):
            try:
                call(method, request)
                print(f"{what} accepted")
            except grpc.RpcError as error:
                print(f"{what} {describe(error)}")


if __name__ == "__main__":
    main()
