# The two commands a newcomer needs: `make run` and `make test`. Both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format bench migrate install clean help

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install everything (editable)

run: $(STAMP) ## start the whole fleet with embedded Postgres/Redis and the sandbox
	$(BIN)/webrana up $(ARGS)

test: $(STAMP) ## every test against real Postgres and Redis
	$(BIN)/pytest $(ARGS)

lint: $(STAMP) ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## benchmarks under tests/perf (prints figures)
	$(BIN)/python -m tests.perf $(ARGS)

migrate: $(STAMP) ## run every service's migrations against DATABASE_URL (or the devstack one)
	$(BIN)/webrana migrate

clean: ## remove .venv and local data
	rm -rf $(VENV) .devstack
