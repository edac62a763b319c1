# Everything runs inside .venv, created on demand. pip is upgraded first: the pip 23.2 of a fresh
# venv crashes resolving some extras (lxml[html-clean]).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
DB ?= sqlite:///data/vnnews.db
CONFIG ?= sources.toml

.PHONY: run install dev test lint bench-extract bench-fetch bench-storage bench-soak bench-throughput clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# an editable install leaves our own modules uncompiled, and where PYTHONDONTWRITEBYTECODE is
# set every process would compile them again (~0.07 s a start): compiled once here, as pip
# does for a regular install (an edited module is compiled again in memory, never stale)
COMPILE := $(BIN)/python -m compileall -q scraper storage jobs

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres]'
	$(COMPILE)
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(COMPILE)
	touch $(STAMP) $@

install: $(STAMP)

dev: $(DEVSTAMP)

# `run` creates or upgrades the database itself; vnnews never creates directories
run: $(STAMP)
	mkdir -p data
	$(BIN)/vnnews --db '$(DB)' --config '$(CONFIG)' run

test: $(DEVSTAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check scraper storage jobs tests bench
	$(BIN)/ruff format --check scraper storage jobs tests bench
	$(BIN)/mypy

bench-extract: $(DEVSTAMP)
	$(BIN)/python bench/extract.py

bench-fetch: $(DEVSTAMP)
	$(BIN)/python bench/fetch.py

bench-storage: $(DEVSTAMP)
	$(BIN)/python bench/storage.py --export 10000 100000

bench-soak: $(DEVSTAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

bench-throughput: $(DEVSTAMP)
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
