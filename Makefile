# Every target sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH_DATA ?= ../shared/extraction-bench

.PHONY: run demo serve test bench soak lint status clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/newswatch run --config config.toml

demo: $(STAMP)
	$(BIN)/newswatch demo --output demo-output
	$(BIN)/newswatch status --config demo-output/config.toml

serve: $(STAMP)  # the reading room on the demo's store (runs the demo first when there is none)
	@test -f demo-output/newswatch.db || $(BIN)/newswatch demo --output demo-output
	$(BIN)/newswatch serve --config demo-output/config.toml

test: $(STAMP)  # one worker per core; a file's tests stay together, so its fixtures start once
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: $(STAMP)
	@if [ -d "$(BENCH_DATA)" ]; then $(BIN)/python bench/extraction.py "$(BENCH_DATA)"; \
	else echo "bench: $(BENCH_DATA) not found; skipping the extraction benchmark"; fi
	$(BIN)/python bench/tagging.py
	$(BIN)/python bench/polling.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/scale.py

soak: $(STAMP)
	$(BIN)/python bench/soak.py --minutes 10

lint: $(STAMP)
	$(BIN)/ruff check .

status: $(STAMP)
	$(BIN)/newswatch status --config config.toml

clean:
	rm -rf $(VENV) demo-output build *.egg-info
