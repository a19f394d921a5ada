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

## bench: every benchmark at small sizes (under 2 minutes; search corpora are built once, cached)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_matching.py --subs 4000 --sample 200
	$(BIN)/python benchmarks/bench_trending.py --papers 10000 50000
	$(BIN)/python benchmarks/bench_search.py --papers 10000 20000 --runs 10
	$(BIN)/python benchmarks/bench_ingest.py --papers 4000 8000
	$(BIN)/python benchmarks/bench_dbsize.py --papers 10000
	$(BIN)/python benchmarks/bench_planning.py --feeds 20 --subs 2000 --papers 1000 --baseline-sample 3
	$(BIN)/python benchmarks/bench_dm_digests.py --members 100 --papers 1000 --baseline-sample 5
	$(BIN)/python benchmarks/bench_memory.py --papers 10000 --feeds 40 --subs 4000 --members 50
	$(BIN)/python benchmarks/bench_latency.py
	$(BIN)/python benchmarks/bench_similarity.py --papers 1000 3000
	$(BIN)/python benchmarks/bench_delivery.py --feeds 8

## bench-full: at issue 10's sizes (the first run builds and caches a 1,000,000-paper corpus)
bench-full: $(STAMP)
	$(BIN)/python benchmarks/bench_matching.py
	$(BIN)/python benchmarks/bench_trending.py
	$(BIN)/python benchmarks/bench_search.py --papers 100000 1000000
	$(BIN)/python benchmarks/bench_ingest.py --papers 100000 1000000
	$(BIN)/python benchmarks/bench_dbsize.py --papers 100000
	$(BIN)/python benchmarks/bench_planning.py
	$(BIN)/python benchmarks/bench_dm_digests.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_latency.py --papers 100000 --ingest 10000 --feeds 10
	$(BIN)/python benchmarks/bench_similarity.py
	$(BIN)/python benchmarks/bench_delivery.py --feeds 200

clean:
	rm -rf $(VENV) build *.egg-info
