# The two commands: `make dev` (the whole platform locally) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev dev-reset test lint synth bench layer openapi clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

layer: $(STAMP)
	$(BIN)/python layers/build_layer.py

dev: $(STAMP)
	$(BIN)/bluehill dev

dev-reset: $(STAMP)
	$(BIN)/bluehill dev --reset

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) layer lint
	$(BIN)/pytest -n 2 --dist loadfile

synth: $(STAMP) layer
	$(BIN)/python infra/app.py

bench: $(STAMP)
	$(BIN)/python -m bluehill_dev.bench
	$(BIN)/python -m bluehill_dev.bench.scenarios.sla
	$(BIN)/python -m bluehill_dev.bench.scenarios.contention
	$(BIN)/python -m bluehill_dev.bench.isolation

openapi: $(STAMP)
	@$(BIN)/bluehill openapi

clean:
	rm -rf cdk.out .bench layers/build .local
