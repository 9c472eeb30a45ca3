# Two commands do everything: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
N ?= 1000

.PHONY: run demo test lint fetch render status clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp files re-install only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/aggregator run --serve $(HOST):$(PORT)

demo: $(VENV)/.installed
	$(BIN)/aggregator demo --serve $(HOST):$(PORT)

fetch render status: $(VENV)/.installed
	$(BIN)/aggregator $@

test: $(VENV)/.installed-test chromium
	$(BIN)/ruff check aggregator tests benchmarks
	$(BIN)/mypy aggregator
	$(BIN)/python -m pytest

# The browser tests (Playwright) drive Debian's Chromium: installed when missing, as root;
# otherwise those tests skip and say why.
.PHONY: chromium
chromium:
	@test -x /usr/bin/chromium || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && apt-get install -y -qq chromium)

# reader, in the test extras, runs beside ours on the same corpus.
bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench.py --feeds $(N)
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/search_index.py
	$(BIN)/python benchmarks/newsletter.py

# Start-up of --version, --help, status and a fetch with nothing due (issue 21).
.PHONY: bench-startup
bench-startup: $(VENV)/.installed
	$(BIN)/python benchmarks/startup.py

clean:
	rm -rf $(VENV) public demo-site .pytest_cache .mypy_cache .ruff_cache
