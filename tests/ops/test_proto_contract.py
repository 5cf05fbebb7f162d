"""The partner API's proto as a contract: buf lint (buf.yaml's rules and explained exceptions), buf breaking
against the last released proto (proto/releases/), the language options partners generate code with, and
services/api/ exactly what `make proto` generates from it. Each check is shown catching its mistake."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto" / "kring" / "v1" / "federation.proto"


@pytest.fixture(scope="module")
def buf() -> str:
    """buf as scripts/buf.sh installs it (npm registry, into .kring/tools/buf)."""
    result = subprocess.run([str(ROOT / "scripts" / "buf.sh"), "--version"], capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        pytest.fail(f"scripts/buf.sh could not install buf: {result.stderr}", pytrace=False)
    return str(ROOT / ".kring" / "tools" / "buf" / "node_modules" / ".bin" / "buf")


def latest_release() -> Path:
    releases = sorted((ROOT / "proto" / "releases").iterdir(),
                      key=lambda p: tuple(int(n) for n in p.name.split(".")))
    return releases[-1]


def workspace(tmp_path: Path, change=None) -> Path:
    """A copy of buf.yaml and proto/ (optionally with federation.proto changed), and the baseline beside it."""
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    if change is not None:
        copy = tmp_path / "proto" / "kring" / "v1" / "federation.proto"
        changed = change(copy.read_text())
        assert changed != copy.read_text(), "the change did not apply"
        copy.write_text(changed)
    shutil.copytree(latest_release(), tmp_path / "baseline")
    return tmp_path


def run(buf: str, where: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([buf, *args], cwd=where, capture_output=True, text=True, timeout=120)


def test_buf_lint_passes_and_every_exception_is_explained(buf):
    result = subprocess.run([str(ROOT / "scripts" / "buf.sh"), "lint"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    block = (ROOT / "buf.yaml").read_text().split("lint:")[1].split("breaking:")[0].split("except:")[1]
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    excepted = [line[2:] for line in lines if re.fullmatch(r"- [A-Z_]+", line)]
    assert {"SERVICE_SUFFIX", "RPC_RESPONSE_STANDARD_NAME"} <= set(excepted)
    for i, line in enumerate(lines):  # each exception (or group of them) has a comment right above it
        if re.fullmatch(r"- [A-Z_]+", line):
            assert i > 0 and lines[i - 1].startswith(("#", "- ")), f"{line[2:]} has no explanation"


def test_buf_breaking_against_the_last_release_passes():
    result = subprocess.run([str(ROOT / "scripts" / "buf.sh"), "breaking"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_baseline_is_the_release_the_changelog_names_last():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", changelog, re.MULTILINE)
    assert released, "CHANGELOG.md names no released version"
    assert latest_release().name == released[0]
    assert (latest_release() / "kring" / "v1" / "federation.proto").is_file()


@pytest.mark.parametrize(("change", "expected"), [
    (lambda text: text.replace("string title = 3;", "string title = 13;", 1),
     "Previously present field \"3\" with name \"title\""),
    (lambda text: text.replace("  string theme = 5;\n", "  reserved 5;\n", 1), "Previously present field \"5\""),
    (lambda text: text.replace("string licence = 10;", "string license = 10;", 1), "changed name from"),
    (lambda text: text.replace("  OUTPUT_KIND_RESOURCE = 4;\n", "", 1), "Previously present enum value \"4\""),
])
def test_a_renumbered_removed_or_renamed_field_breaks_the_contract(buf, tmp_path, change, expected):
    where = workspace(tmp_path, change)
    result = run(buf, where, "breaking", "--against", "baseline")
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr


def test_an_added_field_does_not_break_the_contract(buf, tmp_path):
    where = workspace(tmp_path, lambda text: text.replace("  string api_version = 4;\n",
                                                          "  string api_version = 4;\n  string motto = 5;\n", 1))
    result = run(buf, where, "breaking", "--against", "baseline")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_field_against_the_style_guide_fails_lint(buf, tmp_path):
    where = workspace(tmp_path, lambda text: text.replace("string api_version = 4;", "string apiVersion = 4;", 1))
    result = run(buf, where, "lint")
    assert result.returncode != 0
    assert "should be lower_snake_case" in result.stdout


def test_the_language_options_partners_generate_code_with_are_set():
    text = PROTO.read_text()
    options = dict(re.findall(r'^option (\w+) = "?([^"]+?)"?;$', text, re.MULTILINE))
    assert options["java_package"] and options["java_multiple_files"] == "true"
    assert options["csharp_namespace"] and ";" in options["go_package"]


def test_the_generated_code_is_what_make_proto_generates_now(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable, "KRING_PROTO_OUT": str(tmp_path / "api")}
    result = subprocess.run([str(ROOT / "scripts" / "gen_proto.sh")], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    fresh, committed = tmp_path / "api" / "kring", ROOT / "services" / "api" / "kring"
    names = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert names == sorted(p.relative_to(committed) for p in committed.rglob("*")
                           if p.is_file() and "__pycache__" not in p.parts)
    stale = [str(n) for n in names if not filecmp.cmp(fresh / n, committed / n, shallow=False)]
    assert stale == [], f"services/api is out of date with proto/: run make proto ({stale})"
