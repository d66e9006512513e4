# Two commands on a fresh clone: `make synth` and `make test`. Both create .venv on first use; `make test` and
# `make smoke` also build .venv-prefect and install PostgreSQL/Redis (make smoke-deps; root + apt-get).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: synth test validate check lint bench schema rules docs snapshots clean smoke smoke-deps cdktf cdktf-cli alert-tools edge-tools image-tools

# Terraform and the cdktf CLI as make runs them (recipes, tests and `make cdktf`), without the [ERROR] lines
# cdktf prints on every command otherwise: no version check against checkpoint-api.hashicorp.com (the
# runner and CI may have no route there), and a CLI configuration that exists (TF_CLI_CONFIG_FILE naming a
# missing file is an error to Terraform, which cdktf relays); yours is kept when the file is there.
export CHECKPOINT_DISABLE := 1
ifeq ($(wildcard $(TF_CLI_CONFIG_FILE)),)
export TF_CLI_CONFIG_FILE := $(CURDIR)/deploy/terraformrc
endif
# The cdktf CLI 0.21.0 with every dependency pinned (deploy/cdktf-cli/package-lock.json), installed by npm ci
# into .cdktf-cli/ (`make cdktf-cli`; needs Node.js >= 18 and npm). The tests run it as the receiver of the
# deploy commands (tests/test_cdktf_deploy.py), the deploy runner deploys with it; e.g.
# make cdktf ARGS="deploy bootstrap". CDKTF=cdktf uses one on PATH instead.
CDKTF_CLI_DIR := .cdktf-cli
CDKTF_CLI := $(CDKTF_CLI_DIR)/node_modules/.bin/cdktf
CDKTF ?= $(CURDIR)/$(CDKTF_CLI)

# The Prefect runtime smoke (tests/smoke): Prefect 3.8.3 in its own venv, PostgreSQL 15 and Redis 7 from Debian.
PREFECT_VENV := .venv-prefect
PREFECT_STAMP := $(PREFECT_VENV)/.installed-stamp
PREFECT_REQUIREMENTS := tests/smoke/prefect-requirements.txt

# pip's own output stays visible (without download progress bars): the first run takes minutes, and
# shows each package it collects and installs.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> setting up $(VENV): haflow and its pinned dependencies (constraints.txt: $$(grep -c '==' constraints.txt) packages; several minutes on the first run)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -c constraints.txt -e '.[dev]'
	touch $(STAMP)
	@echo "==> $(VENV) ready"

$(PREFECT_STAMP): $(PREFECT_REQUIREMENTS)
	test -x $(PREFECT_VENV)/bin/python || $(PYTHON) -m venv $(PREFECT_VENV)
	$(PREFECT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(PREFECT_REQUIREMENTS)
	touch $(PREFECT_STAMP)

$(CDKTF_CLI): deploy/cdktf-cli/package.json deploy/cdktf-cli/package-lock.json
	@echo "==> installing the cdktf CLI into $(CDKTF_CLI_DIR) (npm ci, deploy/cdktf-cli/package-lock.json)"
	mkdir -p $(CDKTF_CLI_DIR)
	cp deploy/cdktf-cli/package.json deploy/cdktf-cli/package-lock.json $(CDKTF_CLI_DIR)/
	cd $(CDKTF_CLI_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(CDKTF_CLI)

cdktf-cli: $(CDKTF_CLI)

# promtool, amtool and the two servers for the alerting tests (tests/alerting), from Debian's packages,
# unpacked into .tools/alerting without root (apt-get download + dpkg -x).
ALERT_TOOLS := .tools/alerting

alert-tools:
	bash tests/alerting/install-tools.sh $(ALERT_TOOLS)

# nginx for the edge tests (tests/edge: the rendered model-api Ingress's auth and rate limits enforced by a real
# nginx), Debian's package unpacked into .tools/nginx without root (apt-get download + dpkg -x).
EDGE_TOOLS := .tools/nginx

edge-tools:
	bash tests/edge/install-nginx.sh $(EDGE_TOOLS)

# docker-registry (distribution 2.8) and skopeo (1.9) for the image tests (tests/images: a real registry on
# 127.0.0.1, images pushed with skopeo copy --all, `haflow images lock` reading them with skopeo inspect --raw),
# Debian's packages unpacked into .tools/registry without root (apt-get download + dpkg -x). `haflow images lock`
# finds skopeo there too.
IMAGE_TOOLS := .tools/registry

image-tools:
	bash tests/images/install-tools.sh $(IMAGE_TOOLS)

smoke-deps: $(PREFECT_STAMP)
	bash tests/smoke/install-servers.sh

smoke: $(STAMP) smoke-deps
	$(BIN)/pytest -q -m smoke tests/smoke

synth: $(STAMP)
	$(BIN)/haflow synth

validate: $(STAMP)
	$(BIN)/haflow validate

check: $(STAMP)
	$(BIN)/haflow check --checkov

test: $(STAMP) smoke-deps alert-tools edge-tools image-tools $(CDKTF_CLI)
	$(BIN)/ruff check haflow tests bench main.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/actionlint -no-color .github/workflows/*.yml
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check haflow tests bench main.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/actionlint -no-color .github/workflows/*.yml

bench: $(STAMP)
	$(BIN)/python bench/synth.py
	$(BIN)/python bench/review.py

schema: $(STAMP)
	$(BIN)/haflow schema

rules: $(STAMP)
	$(BIN)/haflow rules

docs: $(STAMP)
	$(BIN)/haflow docs

snapshots: $(STAMP)
	$(BIN)/pytest -q --snapshot-update tests

cdktf: $(STAMP) $(if $(filter $(CURDIR)/$(CDKTF_CLI),$(CDKTF)),$(CDKTF_CLI))
	PATH="$(CURDIR)/$(BIN):$$PATH" $(CDKTF) $(ARGS)

clean:
	rm -rf cdktf.out .pytest_cache .mypy_cache .ruff_cache
