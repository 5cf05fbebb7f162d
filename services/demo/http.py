"""The admin API as the demo loader uses it: a client, expected statuses, and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


class DemoDataError(RuntimeError):
    """The admin API answered something the demo loader cannot work with."""


def admin_client(base_url: str, token: str, timeout: float = 15.0) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                        timeout=timeout)


def expect(response: httpx.Response, what: str, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise DemoDataError(f"{what}: {response.request.method} {response.request.url.path} answered "
                            f"{response.status_code}: {response.text[:500]}")
    return response.json() if response.content else {}


def all_pages(client: httpx.Client, path: str, query: dict[str, str], page_size: int = 100) -> Iterator[dict]:
    params: dict[str, str | int] = {**query, "page_size": page_size}
    while True:
        page = expect(client.get(path, params=params), f"list {path}", 200)
        yield from page["items"]
        if not page.get("next_page_token"):
            return
        params["page_token"] = page["next_page_token"]
