"""The import rules of docs/architecture.md ("Who may import what"), checked on the code as it is.

Each rule reads the imports of every module under ``services/`` (absolute and relative, at any depth, including
imports inside functions) and names every module that breaks it, with the line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("members", "networks", "sessions", "federation")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted ("services.members.schemas", "grpc", ...)
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[Import]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from services.members import schemas" imports the module services.members.schemas
            for alias in node.names:
                yield Import(module, f"{target}.{alias.name}", node.lineno)


ALL_IMPORTS = [imp for path in sorted((ROOT / "services").rglob("*.py")) for imp in imports_of(path)]


def under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def kring_part(target: str) -> str | None:
    """``services.members.domain.x`` → ``services.members``; None for anything outside Kring."""
    parts = target.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 1 else None


def assert_none_breaks(rule) -> None:
    broken = [str(imp) for imp in ALL_IMPORTS if rule(imp)]
    assert not broken, "\n".join(["imports that break the rule:", *broken])


def test_the_rules_see_every_kind_of_import():
    """A rule that reads nothing passes everything: the reader finds relative, nested and aliased imports."""
    found = {(imp.module, imp.target) for imp in ALL_IMPORTS}
    assert ("services.members.service", "services.members.handlers") in found  # from . import handlers
    assert any(m.startswith("services.gateway.") and t.startswith("grpc") for m, t in found)
    assert len(ALL_IMPORTS) > 1000


def test_common_imports_no_other_part_of_kring():
    def rule(imp: Import) -> bool:
        part = kring_part(imp.target)
        return under(imp.module, "services.common") and part is not None and part != "services.common"

    assert_none_breaks(rule)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service):
    own = f"services.{service}"

    def rule(imp: Import) -> bool:
        part = kring_part(imp.target)
        return under(imp.module, own) and part is not None and part not in (own, "services.common", "services.api")

    assert_none_breaks(rule)


def is_wire_contract(target: str) -> bool:
    """A service's ``schemas`` module or package, or a sub-package's (``services.federation.peers.schemas``)."""
    parts = target.split(".")
    return parts[0] == "services" and len(parts) > 2 and parts[1] in SERVICES and "schemas" in parts[2:4]


def test_the_gateway_imports_only_the_kit_and_the_services_wire_contracts():
    allowed = ("services.common", "services.api", "services.gateway", "services.federation.relay.peer_links")

    def rule(imp: Import) -> bool:
        return (under(imp.module, "services.gateway") and kring_part(imp.target) is not None
                and not under(imp.target, *allowed) and not is_wire_contract(imp.target))

    assert_none_breaks(rule)


def test_the_console_is_a_client_of_the_admin_api_only():
    # Not even the services' wire contracts: what the console knows of Kring is the admin API's JSON. The demo
    # catalogue lists the demo people for the development sign-in.
    allowed = ("services.common", "services.console", "services.demo.catalogue")

    def rule(imp: Import) -> bool:
        return (under(imp.module, "services.console") and kring_part(imp.target) is not None
                and not under(imp.target, *allowed))

    assert_none_breaks(rule)


@pytest.mark.parametrize(("edge", "other"), [("admin", "partner"), ("partner", "admin"), ("shared", "admin"),
                                             ("shared", "partner")])
def test_the_two_edges_share_only_what_is_in_gateway_shared(edge, other):
    def rule(imp: Import) -> bool:
        return under(imp.module, f"services.gateway.{edge}") and under(imp.target, f"services.gateway.{other}")

    assert_none_breaks(rule)


def test_grpcio_is_used_only_at_the_edges_that_run_without_eventlet():
    edges = ("services.gateway", "services.federation.relay", "services.api")

    def rule(imp: Import) -> bool:
        return under(imp.target, "grpc", "grpc_health", "grpc_reflection", "grpc_status") and not under(
            imp.module, *edges)

    assert_none_breaks(rule)


def test_the_edges_that_use_grpcio_never_import_eventlet():
    def rule(imp: Import) -> bool:
        return under(imp.module, "services.gateway", "services.federation.relay") and under(imp.target, "eventlet")

    assert_none_breaks(rule)
