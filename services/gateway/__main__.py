"""``python -m services.gateway`` starts the gateway (the same as ``kring gateway``)."""

from services.gateway.main import run_gateway

run_gateway()
