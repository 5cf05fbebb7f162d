# The two commands: `make run` (the whole stack, locally) and `make test` (the whole test suite).
# Both create .venv on first use and reinstall only when a lock file or pyproject.toml changes.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kring-installed
# Extra arguments: make run ARGS=--no-demo; make test ARGS=-x (given to each layer's pytest)
ARGS ?=
# The unit layer is pure CPU and independent tests: spread over every core (pytest-xdist), at most eight.
UNIT_WORKERS ?= -n auto --maxprocesses 8
TEST_LAYERS ?= tests/unit tests/property tests/integration tests/e2e tests/browser tests/security tests/faults tests/ops
# A role that may create databases, so the same URL works with Debian's password authentication over TCP;
# scripts/ensure-postgres.sh creates it.
export KRING_TEST_POSTGRES_URL ?= postgresql+psycopg2://kring:kring@127.0.0.1:5432/kring_test

# The newest Python Kring supports (pyproject.toml's classifiers); `make test-newest` runs the suite on it.
NEWEST_PYTHON ?= 3.13
# The same interpreter the locks are resolved for (the oldest supported); they hold every Python from there on.
LOCK_PYTHON := 3.11
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version $(LOCK_PYTHON) --generate-hashes \
	--custom-compile-command "make lock"

# The type checker, strict, on all of services/ (pyproject.toml's [tool.mypy]).
MYPY := $(BIN)/mypy --cache-dir $(VENV)/.mypy_cache

.PHONY: run run-federation test test-newest lint proto clean install bench lock

install: $(STAMP)

$(BIN)/python:
	@py=$$(scripts/ensure-python.sh $(PYTHON)) && echo "creating $(VENV) with $$py" && "$$py" -m venv $(VENV)

# requirements-dev.lock: every package, with its hashes (the runtime lock's versions plus the test tools).
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml | $(BIN)/python
	@echo "installing pinned dependencies into $(VENV) (requirements-dev.lock, hashes checked)"
	@$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock > $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e . >> $(VENV)/install.log 2>&1 \
		|| { cat $(VENV)/install.log; exit 1; }
	@touch $@

run: $(STAMP)
	@scripts/ensure-rabbitmq.sh
	@$(BIN)/python -m services.cli run $(ARGS)

# Two instances side by side, a national and a regional one, each with its part of the demo data, linked
# (services/instances.py): admin APIs on :8080 and :8081, gRPC on :50051 and :50052.
run-federation: $(STAMP)
	@scripts/ensure-rabbitmq.sh
	@$(BIN)/python -m services.cli run-federation $(ARGS)

# One pytest process per layer: integration tests run nameko under eventlet's monkey patching, and the e2e
# tests drive grpcio, which hangs under it. The first failing layer stops the run. tests/ops (metrics, dashboard,
# alerts, Kubernetes manifests, Dockerfile) needs promtool: scripts/ensure-promtool.sh installs it. tests/browser
# (the console in a real Chromium) needs Debian's chromium and axe-core: scripts/ensure-chromium.sh, ensure-axe.sh.
test: $(STAMP)
	@echo "== ruff" && $(BIN)/ruff check -q . && echo "lint clean"
	@echo "== mypy" && $(MYPY)
	@echo "== buf lint" && scripts/buf.sh lint && echo "proto lint clean"
	@echo "== buf breaking" && scripts/buf.sh breaking && echo "no breaking change against the released proto"
	@scripts/ensure-rabbitmq.sh
	@scripts/ensure-postgres.sh
	@scripts/ensure-promtool.sh
	@scripts/ensure-node-examples.sh
	@scripts/ensure-chromium.sh
	@scripts/ensure-axe.sh
	@for layer in $(TEST_LAYERS); do \
		echo "== $$layer"; case $$layer in tests/unit) spread="$(UNIT_WORKERS)";; *) spread="";; esac; \
		$(BIN)/python -m pytest -q --suppress-nameko-eventlet-notification $$spread $$layer $(ARGS) || exit $$?; \
	done

# The suite on the newest supported Python, in a virtual environment of its own (.venv-3.13), from the same
# locks. `make test` runs on the oldest (python3, 3.11 here); CI runs both (.ci/run).
test-newest:
	@$(MAKE) --no-print-directory test PYTHON=$(NEWEST_PYTHON) VENV=.venv-$(NEWEST_PYTHON)

# Benchmarks (issue 7's harness): figures beside their baselines, saved under bench/results/.
bench: $(STAMP)
	@scripts/ensure-rabbitmq.sh
	@scripts/ensure-postgres.sh
	@$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(MYPY)
	@scripts/buf.sh lint
	@scripts/buf.sh breaking

proto: $(STAMP)
	@PYTHON=$(BIN)/python scripts/gen_proto.sh

# Rewrite both locks from pyproject.toml, keeping every locked version that still satisfies it (add
# `--upgrade` inside LOCK to move to newer ones). Runtime first: the development lock is constrained to it.
lock: $(STAMP)
	@$(LOCK) -o requirements.lock
	@$(LOCK) --extra dev -c requirements.lock -o requirements-dev.lock
	@echo "wrote requirements.lock and requirements-dev.lock"

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache $(VENV)/.mypy_cache .hypothesis build *.egg-info $(STAMP) .kring/tools
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
