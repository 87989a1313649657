# contact-jobs: every command sets itself up (virtual environment, pinned packages, npm tools).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Python 3.13, like the Lambda runtime: python3.13 on PATH, else pyenv's 3.13.
PYTHON313 ?= $(shell command -v python3.13 >/dev/null 2>&1 && python3.13 -c '' 2>/dev/null && echo python3.13 || \
	( command -v pyenv >/dev/null 2>&1 && ls -d "$$(pyenv root)"/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1 ))
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# What the gates check; tests point them at copies with planted defects (tests/gates/).
TEMPLATE ?= template.yaml
ASL ?= build/contact_jobs.asl.json
BUILD_DIR ?= .aws-sam/build
CHECKOV_CONFIG ?= .checkov.yaml
export AWS_DEFAULT_REGION ?= eu-west-1
export TZ := UTC
export SAM_CLI_TELEMETRY := 0
# sam build without a container needs python3.13 on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install demo test test-fast lint validate build pytest bench clean \
	asl gate-sam-validate gate-cfn-lint gate-asl gate-checkov gate-sam-build

help:
	@echo "make demo    serve the local stack and drive it with the contact-jobs CLI: import, backup, verify, restore"
	@echo "make test    lint, the static gates (sam validate, cfn-lint, asl-validator, checkov, sam build), every test,"
	@echo "             the layer's coverage (fails under the threshold in pyproject.toml)"
	@echo "make test-fast  the unit and contract tests not marked slow (no stack, no gate): the inner loop"
	@echo "make bench   print benchmark figures (JSON lines)"
	@echo "make lint    ruff and mypy"

install: $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP)

$(STAMP): requirements-dev.txt constraints.txt layers/contact_jobs/requirements.txt functions/copy_export_file/requirements.txt \
		pyproject.toml
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (python3.13 on PATH or pyenv 3.13.x)"; exit 1; }
	"$(PYTHON313)" -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	# The contact-jobs console script (cli/contact_jobs_cli), editable: its packages come from the line above.
	$(PY) -m pip install -qq --disable-pip-version-check --no-build-isolation --no-deps -e .
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt constraints-checkov.txt
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found (python3.13 on PATH or pyenv 3.13.x)"; exit 1; }
	"$(PYTHON313)" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -qq --disable-pip-version-check \
		-r requirements-checkov.txt -c constraints-checkov.txt
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: install
	$(PY) -m sandbox cli-demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The static gates (each fails on a planted defect: tests/gates/test_static_gates.py).
validate: install gate-sam-validate gate-cfn-lint asl gate-asl gate-checkov

gate-sam-validate:
	$(BIN)/sam validate --template $(TEMPLATE) --region $(AWS_DEFAULT_REGION)

gate-cfn-lint:
	$(BIN)/cfn-lint $(TEMPLATE)

# asl-validator reads the definition as deployed: DefinitionSubstitutions applied (python -m sandbox asl).
asl:
	@mkdir -p build
	$(PY) -m sandbox asl > build/contact_jobs.asl.json

gate-asl:
	node_modules/.bin/asl-validator --json-path $(ASL)

# Checks that do not fit the whole design are skipped in .checkov.yaml, each with its reason; those that do
# not fit one resource, on that resource in the template. Never on this line.
gate-checkov:
	$(CHECKOV_VENV)/bin/checkov --config-file $(CHECKOV_CONFIG) --file $(TEMPLATE) --framework cloudformation \
		--skip-download --compact --quiet

gate-sam-build:
	$(BIN)/sam build --template $(TEMPLATE) --build-dir $(BUILD_DIR)

build: install gate-sam-build

# Two workers per core: the sandbox tests are independent stacks, and each spends a third to half of its
# time waiting on its fake servers (2 cores, `pytest -n 4 --cov`: 363 s against 451 s with -n 2). Coverage
# of the layer is measured across the workers and fails the run under fail_under (pyproject.toml).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term

# Tests marked slow (tests/integration and tests/gates by folder, see tests/conftest.py; any other test
# over about 2 s by @pytest.mark.slow) are left out.
test-fast: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not slow"

test: lint validate build pytest

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .aws-sam build
