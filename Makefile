# Two commands on a fresh clone: `make synth` and `make test`. Both create .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: synth test validate check lint bench schema rules snapshots clean

# pip's own output stays visible (without download progress bars): the first run takes minutes, and
# shows each package it collects and installs.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> setting up $(VENV): haflow and its pinned dependencies (constraints.txt: $$(grep -c '==' constraints.txt) packages; several minutes on the first run)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -c constraints.txt -e '.[dev]'
	touch $(STAMP)
	@echo "==> $(VENV) ready"

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
