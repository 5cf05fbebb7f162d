"""Readiness: the broker answers and every service answers its ``health()`` RPC (which checks its database).

Liveness (``/healthz``) checks nothing but the process; readiness decides whether a load balancer sends
traffic here, so it reports each dependency by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import amqp.exceptions
import kombu

from services.common.errors import KringError
from services.common.rpc_client import CONNECTION_ERRORS, RpcCaller

OK = "ok"


@dataclass(frozen=True)
class ReadinessReport:
    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(result == OK for result in self.checks.values())


class Readiness:
    def __init__(self, amqp_uri: str, rpc: RpcCaller, services: Sequence[str], timeout: float = 2.0) -> None:
        self.amqp_uri = amqp_uri
        self.rpc = rpc
        self.services = tuple(services)
        # Short: a probe that waits the full RPC timeout would itself be timed out by Kubernetes.
        self.timeout = timeout

    def check(self) -> ReadinessReport:
        checks = {"rabbitmq": self._check_broker()}
        if checks["rabbitmq"] != OK:
            checks.update({service: "not checked: rabbitmq unreachable" for service in self.services})
            return ReadinessReport(checks)
        if self.services:
            # In parallel, so one slow service costs one timeout, not one per service.
            with ThreadPoolExecutor(max_workers=len(self.services), thread_name_prefix="readyz") as pool:
                for service, result in zip(self.services, pool.map(self._check_service, self.services),
                                           strict=True):
                    checks[service] = result
        return ReadinessReport(checks)

    def _check_broker(self) -> str:
        try:
            with kombu.Connection(self.amqp_uri, connect_timeout=self.timeout) as connection:
                connection.ensure_connection(max_retries=1)
        except CONNECTION_ERRORS as exc:
            return f"unreachable: {type(exc).__name__}"
        except amqp.exceptions.AMQPError as exc:  # e.g. wrong credentials or vhost
            return f"refused: {type(exc).__name__}"
        return OK

    def _check_service(self, service: str) -> str:
        try:
            answer = self.rpc.call(service, "health", timeout=self.timeout)
        except KringError as exc:
            return f"{exc.code}: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - a probe must answer; the pool already logged the cause
            return f"failed: {type(exc).__name__}"
        database = answer.get("database") if isinstance(answer, dict) else None
        return OK if database == OK else f"database: {database}"
