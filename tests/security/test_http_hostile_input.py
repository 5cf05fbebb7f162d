"""Hostile text and times on every admin route, deterministically: what random generation finds only now and then.

For each route, the valid request of the authorization matrix (as the operator, who may do everything) is sent
again with one value made hostile at a time: a NUL character in each path parameter, in each string query
parameter and in each string of the body (PostgreSQL refuses to store it), and a time at an end of the calendar
in each date or date-time (converting it to UTC, or adding a year to it, overflows). Each must be refused as
bad input naming the field (422), never reach a service that fails on it (5xx).
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.security.test_authorization_matrix import HTTP_REQUESTS
from tests.security.world import World

EDGES_OF_TIME = ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def query_parameters(document: dict, method: str, template: str) -> list[tuple[str, str | None]]:
    """(name, format) of each string query parameter the document declares for the operation."""
    found = []
    for parameter in document["paths"][template][method.lower()].get("parameters", []):
        if parameter["in"] != "query":
            continue
        schemas = [parameter["schema"], *parameter["schema"].get("anyOf", [])]
        strings = [s for s in schemas if s.get("type") == "string"]
        if strings:
            found.append((parameter["name"], strings[0].get("format")))
    return found


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def replaced(body: Any, path: tuple, new: str) -> Any:
    changed = copy.deepcopy(body)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return changed


def variants(world: World, document: dict, route: str) -> Iterator[tuple[str, str, str, Any, str]]:
    """(what, rule, path, body, field) of each hostile variant of the route's valid request."""
    method, template = route.split(" ", 1)
    built_path, body = HTTP_REQUESTS[route](world)
    base, _, query = built_path.partition("?")
    segments = base.split("/")
    for index, name in enumerate(template.split("/")):
        if name.startswith("{"):  # refused before any service is asked: the request's objects stay untouched
            hostile = [*segments[:index], quote("x\x00"), *segments[index + 1:]]
            yield f"NUL in path {name}", "no_nul_character", "/".join(hostile) + (f"?{query}" if query else ""), \
                body, name.strip("{}")
    for name, form in query_parameters(document, method, template):
        joiner = "&" if "?" in built_path else "?"
        yield f"NUL in query {name}", "no_nul_character", f"{built_path}{joiner}{name}={quote('x' + chr(0))}", \
            body, name
        if form in ("date-time", "date"):
            for moment in EDGES_OF_TIME:
                yield f"{moment} in query {name}", "time_in_range", f"{built_path}{joiner}{name}={quote(moment)}", \
                    body, name
    for path, text in list(leaves(body)):
        field = ".".join(str(step) for step in path)
        fresh_path, fresh_body = HTTP_REQUESTS[route](world)  # destructive routes need a fresh object each time
        yield f"NUL in body {field}", "no_nul_character", fresh_path, replaced(fresh_body, path, text + "\x00"), field
        if _DATE.match(text):
            for moment in EDGES_OF_TIME:
                fresh_path, fresh_body = HTTP_REQUESTS[route](world)
                yield f"{moment} in body {field}", "time_in_range", fresh_path, replaced(fresh_body, path, moment), \
                    field


@pytest.fixture(scope="module")
def document(world) -> dict:
    return world.operator.get("/openapi.json").json()


@pytest.mark.parametrize("route", [r for r in HTTP_REQUESTS if " /v1/" in r])
def test_hostile_text_and_times_are_422_naming_the_field_never_5xx(world, document, route):
    method = route.split(" ", 1)[0]
    wrong = []
    # The sign-in exchange takes only the sign-in broker's token: the operator's would be refused before input.
    sender = world.http("broker") if route == "POST /v1/sign-in/tokens" else contextlib.nullcontext(world.operator)
    with sender as client:
        answers = [(what, rule, field, client.request(method, path, json=body))
                   for what, rule, path, body, field in variants(world, document, route)]
    for what, rule, field, response in answers:
        found = {(v["field"], v["rule"]) for v in response.json()["error"]["violations"]} \
            if response.status_code == 422 else set()
        if (field, rule) not in found:
            wrong.append(f"{what}: {response.status_code} {response.text[:200]}")
    assert wrong == []
