# Touchstone: `make run` to see it work, `make test` to prove it. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PROTOS := $(sort $(wildcard protos/touchstone/*/v1/*.proto))
GEN_ROOTS := $(wildcard services/*/touchstone)
GEN_ROOTS := $(GEN_ROOTS:/touchstone=)

.DEFAULT_GOAL := help
.PHONY: help venv lock generate check-generated contracts-check release-contracts run test docs browser test-unit test-integration lint typecheck bench faults bench-queries clean distclean deploy-check deploy-config

help: ## list every target with one line each
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# Every package, direct or not, at the version and with the hashes requirements/dev.lock names;
# then Touchstone itself, built with the setuptools that lock holds.
$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP) ## create .venv and install Touchstone with the locked dependencies (requirements/dev.lock)

LOCK := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(STAMP) ## re-lock requirements/*.lock from pyproject.toml (hashes; pins kept unless UPGRADE=1)
	$(LOCK) $(if $(UPGRADE),--upgrade) -o requirements/service.lock pyproject.toml
	$(LOCK) $(if $(UPGRADE),--upgrade) --allow-unsafe --extra local --extra dev -o requirements/dev.lock pyproject.toml

OPENAPI := docs/openapi.json
CONFIGURATION := docs/configuration.md
generate: $(STAMP) ## generate the Python contracts from protos/ (touchstone.<ctx>.v1, in the package of its context), docs/openapi.json, and the settings tables of docs/configuration.md
	$(BIN)/python -m touchstone.tools.dev.codegen --roots $(GEN_ROOTS) -- $(PROTOS)
	$(BIN)/python -m touchstone.tools.dev.openapi --out $(OPENAPI) $(PROTOS)
	$(BIN)/python -m touchstone.tools.dev.settings_table --out $(CONFIGURATION)

check-generated: $(STAMP) ## fail if the committed generated code, docs/openapi.json or the settings tables differ from their sources
	$(BIN)/python -m touchstone.tools.dev.codegen --check --roots $(GEN_ROOTS) -- $(PROTOS)
	$(BIN)/python -m touchstone.tools.dev.openapi --check --out $(OPENAPI) $(PROTOS)
	$(BIN)/python -m touchstone.tools.dev.settings_table --check --out $(CONFIGURATION)

# buf at the version tools/buf/package-lock.json pins (with its hashes), from the npm registry.
BUF_DIR := tools/buf
BUF := $(BUF_DIR)/node_modules/.bin/buf
RELEASED := $(shell ls -v protos/releases/*.binpb 2>/dev/null | tail -1)
$(BUF): $(BUF_DIR)/package-lock.json
	npm ci --silent --no-audit --no-fund --prefix $(BUF_DIR)
	touch $@

contracts-check: $(BUF) ## buf lint (STANDARD; exceptions and reasons in buf.yaml), and no breaking change since the last release's contracts
	$(BUF) lint
	$(BUF) breaking --against $(RELEASED)
	@echo "contracts: lint clean, nothing broken since $(RELEASED)"

release-contracts: $(BUF) ## record protos/ as released at VERSION (x.y.z): later changes are checked against them
	@test -n "$(VERSION)" || { echo "usage: make release-contracts VERSION=x.y.z"; exit 2; }
	$(BUF) build --exclude-source-info -o protos/releases/v$(VERSION).binpb

run: generate ## start the embedded broker, Postgres, the four services and the simulator; live summary until Ctrl-C
	$(BIN)/touchstone run

test: check-generated contracts-check deploy-check docs browser ## run every test: unit, integration (real broker + Postgres), end-to-end over gRPC, the console in Chromium, the docs
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest tests

docs: $(STAMP) ## build docs/ with MkDocs, strictly: a broken link or anchor fails (.venv/bin/mkdocs serve to read it)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

browser: ## Debian's chromium for the console's browser tests (installed as root with apt-get; otherwise they skip)
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "no chromium, and no root apt-get to install it: the browser tests will skip"; fi; }

deploy-check: $(STAMP) ## build every k8s overlay (kubectl kustomize) and validate it offline: schemas, policy, topics, config copies
	$(BIN)/python deploy/check_manifests.py

deploy-config: $(STAMP) ## refresh deploy/k8s/base/config/ from the config files the services ship, and compose's alert rules from deploy/observability
	$(BIN)/python deploy/check_manifests.py --refresh-config

test-unit: $(STAMP) ## unit tests only (no infrastructure)
	$(BIN)/pytest tests/unit

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy over the hand-written code
	$(BIN)/mypy

bench: generate ## end-to-end throughput and latency against the embedded stack (BENCH_EVENTS=100000)
	$(BIN)/touchstone bench --events $${BENCH_EVENTS:-100000}

faults: generate ## the fault matrix (kill -9, outages, bad input, any order, overload) vs a fault-free run (FAULTS_EVENTS=20000, FAULTS_OVERLOAD_S=180; about two hours)
	$(BIN)/touchstone faults --events $${FAULTS_EVENTS:-20000} --overload-seconds $${FAULTS_OVERLOAD_S:-180}

bench-queries: generate ## loyalty's ranking and value-at-risk queries over 100,000 customers
	$(BIN)/touchstone bench-queries --customers $${BENCH_CUSTOMERS:-100000}

clean: ## stop nothing, remove local state (.touchstone/) and caches
	rm -rf .touchstone .pytest_cache .mypy_cache .ruff_cache

distclean: clean ## also remove the virtual environment
	rm -rf $(VENV)
