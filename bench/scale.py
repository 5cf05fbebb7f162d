"""Benchmark 6, how cost grows: scale curves, each printed so a reader sees whether it grows linearly or worse.

Run alone: ``python -m bench.scale [--fanout 100,1000,10000] [--networks 10000]``; prints the curves on stderr
and the figures as JSON on the last line of stdout.

- **Fan-out.** One output of a national network shared to 100, 1,000 and 10,000 linked networks. Each size
  gets a fresh federation database (its Alembic history) holding the national network, one regional network
  per hundred networks and local ones under those, linked by active ``parent_child`` links as the federation
  service makes them from the networks' parents (rows written directly, so that building 10,000 networks takes
  seconds). An output of visibility ``federation`` from the national network then reaches every one of them.
  Measured: the time of the consumer's transaction for one ``output.published`` (the federation service's
  effect, ``sharing.on_output_published``, with its processed-event marker, through ``apply_batch`` as its
  batching handler runs it), from its start to its commit, when every feed log entry and delivery record of
  the output is written. Median of ``--repeats`` outputs per size; per-network cost = that time / networks.
  The broker's leg of the path does not depend on the number of networks (one message) and is benchmark 1's.
- **``ListNetworks`` paging.** 10,000 networks in a fresh networks database (rows written directly). The
  owning service's read path (``handlers.list_networks``: the keyset query on ``(name, id)`` and the view of
  each network, as the admin API and the partner API's ``ListNetworks`` call it) walks every page of 50; the
  time per page at the first, middle and last page (median of ``--repeats`` walks). Cursor paging is flat:
  the last page costs what the first does. Beside it, the same query paged with ``OFFSET`` (the baseline
  column), which reads and drops every row before the page and so grows with the page's position.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from bench.common import Figure, database, log
from services.common.catalogue import OutputPublished
from services.common.db import create_service_engine
from services.common.migrations import upgrade
from services.common.uow import Delivery, apply_batch
from services.federation import models as federation_models
from services.federation.domain.links import Link, LinkKind
from services.federation.handlers import sharing
from services.federation.repository import _row as link_row
from services.federation.unit_of_work import FederationUnitOfWork
from services.networks import models as networks_models
from services.networks.handlers import networks as network_handlers
from services.networks.schemas import ListNetworks
from services.networks.unit_of_work import NetworksUnitOfWork

PAGE_SIZE = 50


# --- fan-out ------------------------------------------------------------------------------------------------


def federation_of(engine: Engine, size: int) -> str:
    """The national network with ``size`` networks under it (a regional one per hundred, local ones under
    those), linked as the federation service links a network to its parent. Returns the national one's id."""
    now = datetime.now(UTC)
    national = "nat-0"
    regionals = [f"reg-{i}" for i in range(max(1, size // 100))]
    locals_ = [f"loc-{i}" for i in range(size - len(regionals))]
    parent = {r: national for r in regionals} | {loc: regionals[i % len(regionals)] for i, loc in enumerate(locals_)}
    rows = [{"id": national, "name": "Landelijk", "theme": "zorg en welzijn", "status": "active", "parent_id": None,
             "revision": 1}]
    rows += [{"id": n, "name": n, "theme": "zorg en welzijn", "status": "active", "parent_id": p, "revision": 1}
             for n, p in parent.items()]
    links = [link_row(Link.request(str(uuid.uuid4()), LinkKind.PARENT_CHILD, p, n, now=now, active=True))
             for n, p in parent.items()]
    with engine.begin() as conn:
        conn.execute(insert(federation_models.networks), rows)
        conn.execute(insert(federation_models.links), links)
    return national


def output_of(network_id: str) -> OutputPublished:
    return OutputPublished(
        output_id=str(uuid.uuid4()), session_id=str(uuid.uuid4()), network_id=network_id, kind="lesson",
        title="Wat werkt bij eenzaamheid", body="Samen koken werkt beter dan een folder.", url=None,
        resource_type=None, themes=["zorg en welzijn"], visibility="federation", licence="CC-BY-4.0",
        authors=[], published_at=datetime.now(UTC))


def share_once(engine: Engine, event: OutputPublished) -> tuple[float, int]:
    """The federation consumer's transaction for one ``output.published``: seconds, deliveries written."""
    delivery = Delivery(uuid.uuid4(), lambda uow: sharing.on_output_published(event, uow))
    started = time.perf_counter()
    outcome = apply_batch(lambda: FederationUnitOfWork(engine, producer="federation"), [delivery],
                          "federation.on_output_published")
    elapsed = time.perf_counter() - started
    if outcome != [None]:
        raise RuntimeError(f"the share failed: {outcome}")
    with engine.connect() as conn:
        written = len(conn.execute(select(federation_models.deliveries.c.network_id)
                                   .where(federation_models.deliveries.c.output_id == event.output_id)).all())
    return elapsed, written


def fanout_curve(sizes: list[int], repeats: int) -> list[dict]:
    points = []
    for size in sizes:
        with database() as url:
            upgrade("federation", url)
            engine = create_service_engine(url, "federation")
            national = federation_of(engine, size)
            share_once(engine, output_of(national))  # warm: caches, statistics
            times = []
            for _ in range(repeats):
                elapsed, written = share_once(engine, output_of(national))
                if written != size:
                    raise RuntimeError(f"an output reached {written} of {size} networks")
                times.append(elapsed)
            engine.dispose()
        median = statistics.median(times)
        points.append({"networks": size, "ms": 1000 * median, "us_per_network": 1e6 * median / size,
                       "runs_ms": [round(1000 * t, 1) for t in times]})
        log(f"  fan-out to {size:>6,} networks: {1000 * median:9.1f} ms, {1e6 * median / size:7.1f} µs per network")
    return points


# --- ListNetworks paging ------------------------------------------------------------------------------------


def directory_of(engine: Engine, size: int) -> None:
    now = datetime.now(UTC)
    rows = [{"id": str(uuid.uuid4()), "name": f"Netwerk {i:05d}", "level": "local", "kind": "werkplaats",
             "theme": "zorg en welzijn", "urgency": None, "host_organisation": "Movisie", "parent_id": None,
             "region": "Utrecht", "cadence_weeks": 6, "start_date": None, "requires_preparation": False,
             "unprepared_policy": "flag", "status": "active", "created_at": now, "updated_at": now, "revision": 1}
            for i in range(size)]
    with engine.begin() as conn:
        conn.execute(insert(networks_models.networks), rows)
        conn.exec_driver_sql("ANALYZE")


def walk_pages(engine: Engine) -> tuple[list[float], list[str | None]]:
    """Every page of the directory through the service's read path, in order: seconds per page, and the
    page token that asked for each page."""
    times: list[float] = []
    tokens: list[str | None] = [None]
    while True:
        started = time.perf_counter()
        page = network_handlers.list_networks(None, ListNetworks(page_size=PAGE_SIZE, page_token=tokens[-1]),
                                              NetworksUnitOfWork(engine, producer="networks"))
        times.append(time.perf_counter() - started)
        if page.next_page_token is None:
            return times, tokens
        tokens.append(page.next_page_token)


def keyset_page(engine: Engine, token: str | None) -> float:
    """The page's query alone (the repository's ``search``), without the view of each network."""
    started = time.perf_counter()
    with NetworksUnitOfWork(engine, producer="networks") as uow:
        uow.networks.search(ListNetworks(page_size=PAGE_SIZE, page_token=token))
    return time.perf_counter() - started


def offset_page(engine: Engine, page: int) -> float:
    """The same query, the same page, by ``OFFSET`` (the baseline paging cursor paging replaces)."""
    c = networks_models.networks.c
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(select(networks_models.networks).where(c.status == "active").order_by(c.name, c.id)
                     .offset(page * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return time.perf_counter() - started


def paging_curve(size: int, repeats: int) -> dict:
    with database() as url:
        upgrade("networks", url)
        engine = create_service_engine(url, "networks")
        directory_of(engine, size)
        walk_pages(engine)  # warm
        walked = [walk_pages(engine) for _ in range(repeats)]
        walks, tokens = [w for w, _ in walked], walked[0][1]
        pages = len(walks[0])
        where = {"first": 0, "middle": pages // 2, "last": pages - 1}
        cursor = {name: 1000 * statistics.median(w[i] for w in walks) for name, i in where.items()}
        keyset = {name: 1000 * statistics.median(keyset_page(engine, tokens[i]) for _ in range(5 * repeats))
                  for name, i in where.items()}
        offset = {name: 1000 * statistics.median(offset_page(engine, i) for _ in range(5 * repeats))
                  for name, i in where.items()}
        engine.dispose()
    for name, page in where.items():
        log(f"  ListNetworks page {page + 1:>4} of {pages} ({name:>6}): whole read {cursor[name]:7.2f} ms; "
            f"its query: keyset {keyset[name]:6.2f} ms, by OFFSET {offset[name]:6.2f} ms")
    return {"networks": size, "pages": pages, "page_size": PAGE_SIZE, "cursor_ms": cursor, "keyset_query_ms": keyset,
            "offset_ms": offset,
            "walk_s": statistics.median(sum(w) for w in walks)}


def growth(first: float, last: float) -> str:
    return f"{last / first:.2f}x first to last" if first else "-"


def run(sizes: list[int], networks: int, repeats: int) -> list[Figure]:
    log("scale: fan-out of one output")
    curve = fanout_curve(sizes, repeats)
    log("scale: ListNetworks paging")
    paging = paging_curve(networks, repeats)
    smallest, largest = curve[-2] if len(curve) > 1 else curve[0], curve[-1]
    figures = [
        Figure(f"fan-out to {p['networks']:,} networks, ms", "ms", p["ms"], None, None,
               f"{p['us_per_network']:.1f} µs per network", None, p)
        for p in curve
    ]
    per_network_growth = largest["us_per_network"] / smallest["us_per_network"]
    figures.append(Figure(f"fan-out cost per network, {largest['networks']:,} vs {smallest['networks']:,}", "µs",
                          largest["us_per_network"], smallest["us_per_network"],
                          f"per network at {smallest['networks']:,}", "linear: ≤ 2x per network",
                          per_network_growth <= 2.0, {"curve": curve}))
    cursor, offset = paging["cursor_ms"], paging["offset_ms"]
    figures.append(Figure(f"ListNetworks last page of {paging['pages']} (keyset), ms", "ms", cursor["last"],
                          cursor["first"], "first page", "flat: ≤ 2x the first page",
                          cursor["last"] <= 2 * cursor["first"], paging))
    figures.append(Figure(f"ListNetworks page query by OFFSET, last page of {paging['pages']}, ms", "ms",
                          offset["last"], offset["first"], f"first page ({growth(offset['first'], offset['last'])})",
                          None, None, {}))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fanout", default="100,1000,10000", help="network counts, comma-separated")
    parser.add_argument("--networks", type=int, default=10_000, help="networks in the directory paged over")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.fanout.split(",")]
    print(json.dumps([asdict(f) for f in run(sizes, args.networks, args.repeats)]))


if __name__ == "__main__":
    main()
