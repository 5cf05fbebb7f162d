"""The gateway: admin HTTP API and partner gRPC API in one process that eventlet never patches.

grpcio hangs after ``eventlet.monkey_patch()`` (see
docs/decisions/0001-nameko-under-eventlet-edges-outside-it.md), so this package runs on plain threads and
reaches the nameko services only through standalone RPC proxies (:mod:`services.common.rpc_client`).
"""

import warnings

# nameko imports eventlet (it does not patch anything); keep eventlet's deprecation banner out of the logs.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
