# The two commands: `make run` (the whole stack, locally) and `make test` (the whole test suite).
# Both create .venv on first use and reinstall only when requirements.lock or pyproject.toml change.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kring-installed
# Extra arguments: make run ARGS=--no-demo; make test ARGS=-x (given to each layer's pytest)
ARGS ?=
TEST_LAYERS ?= tests/unit tests/property tests/integration tests/e2e tests/security tests/faults tests/ops
# A role that may create databases, so the same URL works with Debian's password authentication over TCP;
# scripts/ensure-postgres.sh creates it.
export KRING_TEST_POSTGRES_URL ?= postgresql+psycopg2://kring:kring@127.0.0.1:5432/kring_test

.PHONY: run run-federation test lint proto clean install bench

install: $(STAMP)

$(BIN)/python:
	@py=$$(scripts/ensure-python.sh $(PYTHON)) && echo "creating $(VENV) with $$py" && "$$py" -m venv $(VENV)

$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	@echo "installing pinned dependencies into $(VENV) (requirements.lock)"
	@$(BIN)/python -m pip install -q -r requirements.lock > $(VENV)/install.log 2>&1 \
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
# alerts, Kubernetes manifests, Dockerfile) needs promtool: scripts/ensure-promtool.sh installs it.
test: $(STAMP)
	@echo "== ruff" && $(BIN)/ruff check -q . && echo "lint clean"
	@scripts/ensure-rabbitmq.sh
	@scripts/ensure-postgres.sh
	@scripts/ensure-promtool.sh
	@for layer in $(TEST_LAYERS); do \
		echo "== $$layer"; $(BIN)/python -m pytest -q --suppress-nameko-eventlet-notification $$layer $(ARGS) || exit $$?; \
	done

# Benchmarks (issue 7's harness): figures beside their baselines, saved under bench/results/.
bench: $(STAMP)
	@scripts/ensure-rabbitmq.sh
	@scripts/ensure-postgres.sh
	@$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	@$(BIN)/ruff check .

proto: $(STAMP)
	@PYTHON=$(BIN)/python scripts/gen_proto.sh

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build *.egg-info $(STAMP)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
