"""The type checker: strict, run by `make lint` and `make test` over all of services/, and
failing on a type error there. The probe below is the unit-of-work pattern of services/common/uow.py: a
service's Protocol that its SQL unit of work and its test fake both satisfy, and a unit of work that lacks a
repository refused."""

from __future__ import annotations

import re
import sys
import textwrap
import tomllib
from pathlib import Path

from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[2]

PROBE = '''
from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection

from services.common.uow import AbstractUnitOfWork, SqlUnitOfWork, UnitOfWork


class Ledger:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def total(self) -> int:
        return 0


class FakeLedger:
    def total(self) -> int:
        return 0


class LedgerRepo(Protocol):
    def total(self) -> int: ...


class LedgerUoW(UnitOfWork, Protocol):
    @property
    def ledger(self) -> LedgerRepo: ...


class SqlLedgerUoW(SqlUnitOfWork):
    ledger: Ledger

    def start(self, connection: Connection) -> None:
        self.ledger = Ledger(connection)


class FakeLedgerUoW(AbstractUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = FakeLedger()


class NoLedgerUoW(SqlUnitOfWork):
    pass


def total(uow: LedgerUoW) -> int:
    with uow:
        return uow.ledger.total()


def entrypoints(sql: SqlLedgerUoW, fake: FakeLedgerUoW, other: NoLedgerUoW) -> None:
    total(sql)
    total(fake)
    {wrong}
'''


def run_mypy(tmp_path: Path, wrong: str) -> tuple[str, int]:
    probe = tmp_path / "probe.py"
    probe.write_text(textwrap.dedent(PROBE).replace("{wrong}", wrong))
    # The project's configuration (strict, its plugins and overrides), on the probe instead of its `files`.
    stdout, stderr, status = mypy_api.run([
        "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
        "--python-executable", sys.executable, str(probe),
    ])
    return stdout + stderr, status


def test_both_commands_run_the_type_checker_over_all_of_the_services_code():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lint", "test"):
        recipe = re.search(rf"^{target}: .*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert recipe and "$(MYPY)" in recipe.group(1), f"make {target} does not run mypy"
    assert re.search(r"^MYPY := \$\(BIN\)/mypy ", makefile, re.MULTILINE)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True and "pydantic.mypy" in config["plugins"]
    assert config["files"] == ["services"]
    assert "exclude" not in config and "follow_imports" not in config  # nothing under services/ left out


def test_only_the_generated_code_has_its_errors_ignored():
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    ignored = [o["module"] for o in overrides if o.get("ignore_errors")]
    assert ignored == [["services.api.kring.*"]]


def test_a_unit_of_work_without_the_services_repository_is_a_type_error(tmp_path):
    output, status = run_mypy(tmp_path, "total(other)")
    assert status == 1, output
    assert re.search(r'probe\.py:\d+: error: Argument 1 to "total" has incompatible type "NoLedgerUoW"; '
                     r'expected "LedgerUoW"', output), output
    assert 'missing following "LedgerUoW" protocol member' in output and "ledger" in output
    assert output.count(": error:") == 1, output  # the SQL unit of work and the fake both fit

    output, status = run_mypy(tmp_path, "pass")
    assert status == 0, output
