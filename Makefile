# West Midlands Police help assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa 3.6 needs 3.8-3.10): PYTHON=... or pyenv's 3.10 or python3.10 on PATH.
PYTHON ?= $(shell for p in "PYENV_VERSION=3.10 python3.10" python3.10 python3; do \
	  env $$p -c 'import sys; assert sys.version_info[:2] == (3, 10); print(sys.executable)' 2>/dev/null && break; done)
VENV := .venv
BIN := $(VENV)/bin
# The model file: RASA_MODEL, or its default in server/settings.py (where every default lives).
MODEL := $(or $(RASA_MODEL),$(shell sed -n 's/^ *"RASA_MODEL": "\(.*\)",$$/\1/p' server/settings.py))
NODE_MODULES := node_modules/.package-lock.json
TRAINING_INPUTS := config.yml domain.yml $(shell find data components core -name '*.yml' -o -name '*.py' -o -name '*.npz' 2>/dev/null)

.PHONY: help install train validate lint run shell test test-unit reload review report purge bench bench-short cluster cluster-reload cluster-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.10 not found. Install it (e.g. pyenv install 3.10) or run: make PYTHON=/path/to/python3.10 ..." >&2; exit 1; fi
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(NODE_MODULES): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (e.g. apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --no-audit --no-fund

install: $(VENV)/.installed $(NODE_MODULES) ## create .venv with Python 3.10, install the pinned requirements and the widget's socket.io-client

$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.installed
	$(BIN)/python -m server train

train: $(MODEL) ## train the model, only if data, domain or config changed since the last one

validate: install ## check the catalogue, the emergency patterns and the training data
	$(BIN)/python -m scripts.validate_content
	$(BIN)/rasa data validate --fail-on-warnings

lint: install ## ruff: lint and format check (ruff format . formats)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

run: train $(NODE_MODULES) ## start the action server, the assistant (http://localhost:5005) and the demo page with the chat widget (http://localhost:8080); Ctrl-C stops them all
	@$(BIN)/python -m server run

shell: train ## talk to the assistant in the terminal (needs `make run` in another terminal for the actions)
	$(BIN)/python -m server shell

test-unit: install ## the fast unit tests only (no servers, no network)
	$(BIN)/pytest -m "not slow"

test: install lint train validate ## every test: lint, unit, held-out sets, conversation tests, end-to-end
	$(BIN)/pytest
	$(BIN)/python -m server rasa test core --model $(MODEL) --stories tests/test_stories.yml --fail-on-prediction-errors --out results

reload: train ## put the newly trained model into the running assistant (make run), keeping conversations
	$(BIN)/python -m scripts.reload

review: install ## list what the public said that the assistant did not understand (redacted), as a table and as YAML
	$(BIN)/python -m scripts.review

report: install ## write a usage report with charts (results/report.html): make report [DAYS=30 | SINCE=2026-01-01 [UNTIL=2026-01-31]]
	$(BIN)/python -m scripts.report $(if $(DAYS),--days $(DAYS)) $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) $(if $(OUT),--out $(OUT))

purge: install ## delete conversations with no message in the last DAYS days: make purge DAYS=90
	@if [ -z "$(DAYS)" ]; then echo "Say how many days to keep: make purge DAYS=90" >&2; exit 1; fi
	$(BIN)/python -m scripts.purge --days $(DAYS)

.venv-bench/.installed: bench/requirements.txt
	python3 -m venv .venv-bench
	.venv-bench/bin/pip install --quiet -r bench/requirements.txt
	touch $@

bench: train .venv-bench/.installed ## benchmark against stock `rasa init`, side by side; writes docs/performance.md (about two hours: its DIET comparison trains at 20 s an epoch)
	$(BIN)/python -m bench.run_bench

bench-short: train .venv-bench/.installed ## the short benchmark (about 5 min; CI runs it); exits 1 if a target is missed
	$(BIN)/python -m bench.run_bench --short --out results/performance-short.md

cluster: train ## PostgreSQL, Redis, two replicas and nginx on http://localhost:8000 (Debian packages installed if missing)
	$(BIN)/python -m cluster up

cluster-reload: train ## put the newly trained model into every replica of `make cluster`, one at a time
	$(BIN)/python -m cluster reload

cluster-down: ## stop everything `make cluster` started, and only that
	$(BIN)/python -m cluster down

clean: ## stop make cluster if it runs, then remove the virtualenvs, models, results and local conversation store
	-$(BIN)/python -m cluster down
	rm -rf $(VENV) .venv-bench node_modules models results var .rasa
