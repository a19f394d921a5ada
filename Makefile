# Paperboy: every set-up step lives here so that one command does it all.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-full clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: install (first time) and start the bot; needs PAPERBOY_DISCORD_TOKEN (env or .env)
run: $(STAMP)
	$(BIN)/paperboy run

## test: install (first time) and run the whole test suite
test: $(STAMP)
	$(BIN)/pytest -q

## lint: ruff (lint + format check) and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: matching benchmark (100,000 subscriptions x 2,000 papers), /trending at 100k and 1M papers,
## command latency while ingest + planning + search run, like: similarity (small sizes)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_matching.py
	$(BIN)/python benchmarks/bench_trending.py
	$(BIN)/python benchmarks/bench_latency.py
	$(BIN)/python benchmarks/bench_similarity.py

## bench-full: the benchmarks at a year of papers and beyond (slow: tens of minutes)
bench-full: $(STAMP)
	$(BIN)/python benchmarks/bench_latency.py --papers 100000 --ingest 10000 --feeds 10

clean:
	rm -rf $(VENV) build *.egg-info
