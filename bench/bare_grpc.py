"""The bare grpcio baselines of the partner API benchmarks, run in a process of their own:
``python -m bench.bare_grpc <unary|streams> --port P [...]``; prints ``serving`` once it listens.

Imports only grpcio and the generated ``kring.v1`` code, so its memory is what a grpcio server costs.

- ``unary``: a sync grpcio server with the gateway's thread pool, in-flight cap and options
  (``services.gateway.partner.server.build_grpc_server``), implementing ``kring.v1.Federation`` with canned
  answers (the messages the gateway gave in the same run: see :func:`write_canned`), nothing behind them.
- ``streams``: a grpc.aio server whose ``StreamOutputs`` holds any number of streams and whose
  ``PublishOutput`` puts one feed item on every open stream at once.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc

GATEWAY_WORKERS = 32  # build_grpc_server's default max_workers, which run_gateway keeps
MAX_MESSAGE_BYTES = 1024 * 1024  # services.gateway.partner.server.MAX_MESSAGE_BYTES


class CannedFederation(federation_pb2_grpc.FederationServicer):
    """The unary baseline: the same answer every time, as the gateway gave it earlier in the run."""

    def __init__(self, network: pb.Network, outputs: pb.ListOutputsResponse) -> None:
        self.network = network
        self.outputs = outputs

    def GetNetwork(self, request: pb.GetNetworkRequest, context: grpc.ServicerContext) -> pb.Network:
        return self.network

    def ListOutputs(self, request: pb.ListOutputsRequest, context: grpc.ServicerContext) -> pb.ListOutputsResponse:
        return self.outputs


def serve_unary(port: int, canned: Path, workers: int) -> None:
    data = canned.read_bytes()
    network_size = int.from_bytes(data[:4], "big")
    network = pb.Network.FromString(data[4:4 + network_size])
    outputs = pb.ListOutputsResponse.FromString(data[4 + network_size:])
    server = grpc.server(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
                         maximum_concurrent_rpcs=workers * 4,
                         options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
    federation_pb2_grpc.add_FederationServicer_to_server(CannedFederation(network, outputs), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print("serving", flush=True)
    stopped.wait()
    server.stop(1).wait(2)


def write_canned(path: Path, network: pb.Network, outputs: pb.ListOutputsResponse) -> None:
    encoded = network.SerializeToString()
    path.write_bytes(len(encoded).to_bytes(4, "big") + encoded + outputs.SerializeToString())


class PushingFederation(federation_pb2_grpc.FederationServicer):
    """The streams baseline: every PublishOutput puts one feed item on every open stream."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue] = set()
        self.position = 0

    async def StreamOutputs(self, request: pb.StreamOutputsRequest, context: grpc.aio.ServicerContext):
        queue: asyncio.Queue = asyncio.Queue()
        self.queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.queues.discard(queue)

    async def PublishOutput(self, request: pb.PublishOutputRequest,
                            context: grpc.aio.ServicerContext) -> pb.PublishOutputResponse:
        self.position += 1
        output_id = f"o-{request.client_output_id}"
        item = pb.FeedItem(cursor=str(self.position), network_id=request.network_id, kind=pb.FEED_ITEM_KIND_SHARED,
                           output=pb.Output(output_id=output_id, origin_network_id=request.network_id,
                                            kind=request.kind, title=request.title, body=request.body,
                                            themes=request.themes, visibility=request.visibility,
                                            licence="CC-BY-4.0",
                                            authors=[pb.Author(shown_as=a) for a in request.authors]))
        item.at.GetCurrentTime()
        item.output.published_at.CopyFrom(item.at)
        for queue in self.queues:
            queue.put_nowait(item)
        return pb.PublishOutputResponse(output_id=output_id, recipients=len(self.queues))

    async def GetFeedHead(self, request: pb.GetFeedHeadRequest, context: grpc.aio.ServicerContext) -> pb.FeedHead:
        return pb.FeedHead(cursor=str(self.position), pending=len(self.queues))  # pending: streams open


def serve_streams(port: int) -> None:
    async def main() -> None:
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        federation_pb2_grpc.add_FederationServicer_to_server(PushingFederation(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        stopped = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
        print("serving", flush=True)
        await stopped.wait()
        await server.stop(1)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description="the bare grpcio baseline servers")
    parser.add_argument("kind", choices=["unary", "streams"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--canned", type=Path, help="unary: the answers to give (see write_canned)")
    parser.add_argument("--workers", type=int, default=GATEWAY_WORKERS)
    args = parser.parse_args()
    if args.kind == "unary":
        serve_unary(args.port, args.canned, args.workers)
    else:
        serve_streams(args.port)


if __name__ == "__main__":
    main()
