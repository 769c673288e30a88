# `make run` serves the hub with demo data; `make test` runs the whole suite.
# Both create .venv on first use, so a fresh clone needs nothing else. `run` also installs
# GraphiQL's npm bundles (hub/web/node_modules) when missing; the hub serves the API
# without them and its /graphql page then names the install command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint format bench clean graphiql-assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

graphiql-assets: $(STAMP)
	$(BIN)/python -m hub.web.assets

run: $(STAMP)
	$(BIN)/python -m hub.web.assets || echo "make run: GraphiQL's assets are not installed (see above); serving the API anyway"
	$(BIN)/hub db upgrade
	$(BIN)/hub demo --if-empty
	$(BIN)/hub serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check hub tests benchmarks migrations
	$(BIN)/ruff format --check hub tests benchmarks migrations
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format hub tests benchmarks migrations
	$(BIN)/ruff check --fix hub tests benchmarks migrations

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) hub/web/node_modules hub.db hub.db-wal hub.db-shm hub-demo-clients.json .pytest_cache .ruff_cache
