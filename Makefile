# Two commands on a fresh clone: `make synth` and `make test`. Both create .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: synth test validate check lint bench schema rules snapshots clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

synth: $(STAMP)
	$(BIN)/haflow synth

validate: $(STAMP)
	$(BIN)/haflow validate

check: $(STAMP)
	$(BIN)/haflow check --checkov

test: $(STAMP)
	$(BIN)/ruff check haflow tests bench main.py
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check haflow tests bench main.py
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/synth.py

schema: $(STAMP)
	$(BIN)/haflow schema

rules: $(STAMP)
	$(BIN)/haflow rules

snapshots: $(STAMP)
	$(BIN)/pytest -q --snapshot-update tests

clean:
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache
