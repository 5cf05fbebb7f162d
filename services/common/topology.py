"""Declare every exchange and handler queue up front (``kring declare``, also run by ``make run`` and the
Kubernetes migration Job).

nameko publishes events with ``mandatory=False``: an event sent before its handler's queue exists is
dropped silently. Declaring all queues before any service starts means an event published while its
consumer is down waits in the consumer's durable queue.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator

import kombu
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.config import available_services
from services.common.nameko_kit import KringEventHandler, dead_letter_queue, event_queue


def service_class(service: str) -> type:
    module = importlib.import_module(f"services.{service}.service")
    return module.SERVICE


def handler_queues(service_cls: type, delivery_limit: int) -> Iterator[kombu.Queue]:
    for method_name, method in inspect.getmembers(service_cls, inspect.isfunction):
        for extension in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(extension, KringEventHandler):
                yield event_queue(extension.source_service, extension.event_type, service_cls.name,
                                  method_name, delivery_limit)


def declare_all(amqp_uri: str, delivery_limit: int) -> list[str]:
    """Declare the dead-letter queue and every handler queue of every service; return the queue names."""
    declared = []
    with kombu.Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.default_channel
        dead_letter_queue()(channel).declare()
        declared.append(dead_letter_queue().name)
        for service in available_services():
            for queue in handler_queues(service_class(service), delivery_limit):
                queue(channel).declare()
                declared.append(queue.name)
    return declared
