"""The version this gateway reports in the OpenAPI document and in ``GetInstance``."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

API_VERSION = "kring.v1"


@lru_cache(maxsize=1)
def kring_version() -> str:
    try:
        return version("kring")
    except PackageNotFoundError:  # running from a checkout that was never pip-installed
        return "0.0.0+unknown"
