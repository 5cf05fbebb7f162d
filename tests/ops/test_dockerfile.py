"""The Dockerfile, read statically (no Docker engine needed): multi-stage on python:3.11-slim, the virtual
environment built in the builder and copied into a final stage that has no build tools, a non-root user, and
the ``kring`` entry point that the Kubernetes manifests give their subcommands to."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TOOLS = ("gcc", "g++", "cc", "make", "build-essential", "python3-dev", "libpq-dev", "clang", "cmake",
               "pkg-config", "git")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def stages(text: str) -> list[Stage]:
    joined = re.sub(r"\\\n", " ", text)  # continuation lines
    found: list[Stage] = []
    build_args: dict[str, str] = {}  # ARGs before the first FROM, which FROM lines may use
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not found:
            name, _, default = rest.strip().partition("=")
            build_args[name] = default
        elif keyword == "FROM":
            rest = re.sub(r"\$\{?(\w+)\}?", lambda m: build_args.get(m.group(1), m.group(0)), rest)
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            found.append(Stage(parts[0], name))
        elif found:
            found[-1].instructions.append((keyword, rest.strip()))
    return found


def problems(dockerfile: str, dockerignore: str) -> list[str]:
    found = []
    all_stages = stages(dockerfile)
    if len(all_stages) < 2:
        return ["not multi-stage: build the virtual environment in a builder stage, copy it into the final one"]
    final = all_stages[-1]
    if not final.base.startswith("python:3.11-slim"):
        found.append(f"final stage is based on {final.base}, not python:3.11-slim")
    builders = {s.name for s in all_stages[:-1] if s.name}
    copies = [rest for kw, rest in final.instructions if kw == "COPY" and re.search(r"--from=(\S+)", rest)]
    if not any(re.search(r"--from=(\S+)", c).group(1) in builders for c in copies):
        found.append("the final stage copies nothing from the builder")
    for keyword, rest in final.instructions:
        if keyword != "RUN":
            continue
        if re.search(r"\bpip3?\b.*\binstall\b|\bpython3? -m pip install\b", rest):
            found.append(f"the final stage installs Python packages ({rest[:60]}...): do that in the builder")
        if re.search(r"\b(apt-get|apt|apk|dnf|yum)\b.*\b(install|add)\b", rest):
            words = set(re.split(r"[\s;&|]+", rest))
            tools = sorted(words & set(BUILD_TOOLS))
            extra = f" incl. build tools {tools}" if tools else ""
            found.append(f"the final stage installs system packages{extra}")
    users = [rest for keyword, rest in final.instructions if keyword == "USER"]
    if not users:
        found.append("the final stage runs as root: no USER")
    elif users[-1].split(":")[0] in ("root", "0"):
        found.append(f"the final stage runs as {users[-1]}")
    elif not users[-1].split(":")[0].isdigit():
        found.append(f"USER {users[-1]}: use a numeric id, so Kubernetes' runAsNonRoot can check it")
    entrypoints = [rest for keyword, rest in final.instructions if keyword == "ENTRYPOINT"]
    if not entrypoints or not entrypoints[-1].startswith("[") or shlex.split(entrypoints[-1].strip("[]").replace(
            ",", " "))[0] != "kring":
        found.append(f"ENTRYPOINT should be [\"kring\"] (exec form), found {entrypoints}")
    found.extend(dependency_layer_problems(all_stages))
    ignored = {line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")}
    if "*" not in ignored and not {".venv", ".git", "var"} <= ignored:
        found.append(".dockerignore lets .venv, .git or var/ into the build context")
    return found


def dependency_layer_problems(all_stages: list[Stage]) -> list[str]:
    """The dependencies are installed from the runtime lock, hashes checked, before the code is copied in: a
    change to the code then rebuilds only the layers after it, not the dependencies."""
    for stage in all_stages[:-1]:
        installs = [i for i, (kw, rest) in enumerate(stage.instructions)
                    if kw == "RUN" and re.search(r"pip install\b.*-r requirements\.lock", rest)]
        if not installs:
            continue
        rest = stage.instructions[installs[0]][1]
        found = []
        if "--require-hashes" not in rest:
            found.append("the builder installs requirements.lock without --require-hashes")
        copies_before = [r for kw, r in stage.instructions[:installs[0]] if kw == "COPY"]
        code = [c for c in copies_before if re.search(r"\bservices\b|(^|\s)\.\s", c + " ")]
        if code:
            found.append(f"the code is copied ({code[0]}) before the dependencies are installed: every code change "
                         "would reinstall them")
        return found
    return ["the builder does not install the dependencies from requirements.lock (pip install -r requirements.lock)"]


def read() -> tuple[str, str]:
    return (ROOT / "Dockerfile").read_text(), (ROOT / ".dockerignore").read_text()


def test_the_dockerfile_is_multi_stage_slim_non_root_without_build_tools_and_runs_kring():
    assert problems(*read()) == []


def test_the_final_user_is_the_one_the_kubernetes_manifests_run_as():
    final = stages(read()[0])[-1]
    user = [rest for keyword, rest in final.instructions if keyword == "USER"][-1]
    deployment = (ROOT / "deploy" / "k8s" / "base" / "gateway.yaml").read_text()
    assert f"runAsUser: {user.split(':')[0]}" in deployment


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else():
    dockerfile, dockerignore = read()
    allowed = {line[1:].rstrip("/") for line in dockerignore.splitlines() if line.startswith("!")}
    copied = set()
    for stage in stages(dockerfile):
        for keyword, rest in stage.instructions:
            if keyword == "COPY" and "--from=" not in rest:
                copied.update(part.rstrip("/").removeprefix("./") for part in rest.split()[:-1])
    assert copied <= allowed
    assert "tests" not in allowed and ".venv" not in allowed


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.replace("USER 10001:10001", "USER root"), "the final stage runs as root"),
    (lambda d: d.replace("USER 10001:10001\n", ""), "no USER"),
    (lambda d: d.replace("USER 10001:10001", "USER kring"), "use a numeric id"),
    (lambda d: d.replace("COPY --from=builder /opt/kring /opt/kring",
                         "RUN apt-get update && apt-get install -y build-essential libpq-dev"),
     "installs system packages incl. build tools ['build-essential', 'libpq-dev']"),
    (lambda d: d.replace("COPY --from=builder /opt/kring /opt/kring", "RUN pip install kring"),
     "the final stage installs Python packages"),
    (lambda d: d.replace('ENTRYPOINT ["kring"]', 'ENTRYPOINT ["python", "-m", "services.cli"]'),
     "ENTRYPOINT should be"),
    (lambda d: d.split("# --- final")[0], "not multi-stage"),
    (lambda d: d.replace("ARG PYTHON_IMAGE=python:3.11-slim-bookworm\n", "ARG PYTHON_IMAGE=python:3.11\n"),
     "not python:3.11-slim"),
    (lambda d: d.replace("-r requirements.lock", "kring"), "does not install the dependencies from requirements"),
    (lambda d: d.replace("--require-hashes ", ""), "without --require-hashes"),
    (lambda d: d.replace("COPY requirements.lock ./\n", "COPY requirements.lock ./\nCOPY services ./services\n"),
     "before the dependencies are installed"),
])
def test_a_dockerfile_that_breaks_a_rule_is_reported(change, expected):
    dockerfile, dockerignore = read()
    changed = change(dockerfile)
    assert changed != dockerfile
    assert any(expected in problem for problem in problems(changed, dockerignore)), problems(changed, dockerignore)


def test_the_base_image_is_a_build_argument_so_a_release_can_pin_it_by_digest():
    dockerfile, _ = read()
    froms = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    pinned = dockerfile.replace("ARG PYTHON_IMAGE=python:3.11-slim-bookworm",
                                "ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:" + "a" * 64)
    assert stages(pinned)[-1].base == "python:3.11-slim-bookworm@sha256:" + "a" * 64
    assert problems(pinned, read()[1]) == []
