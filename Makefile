# The two commands: `make run` starts the product, `make test` runs the quality gates
# (`make lint`) and then the whole suite. Both install what they need first (Python
# packages into .venv, Debian packages).

VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed-stamp
CODE   := agent_orchestrator tests bench migrations scripts

# Python keeps compiled modules (__pycache__, ignored by git) even where the environment
# turns that off: the suite starts about two hundred processes, and without the cache
# each of them compiles the package again (a third of a second each).
export PYTHONDONTWRITEBYTECODE =

.PHONY: install run test lint bench screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-packages.sh
	bash scripts/install-system-packages.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/agent-orchestrator migrate
	$(BIN)/agent-orchestrator serve --host $${HOST:-127.0.0.1} --port $(PORT)

# The gates run first: a finding stops the run before the suite starts. The suite runs in
# TEST_WORKERS processes (default 3), each test module's tests in one of them, the longest
# modules first (tests/support/ordering.py).
test: lint
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-redis.sh
	$(BIN)/pytest -n $${TEST_WORKERS:-3} --dist loadscope --no-loadscope-reorder

lint: install
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy $(CODE)
	$(BIN)/lint-imports

bench: install
	bash scripts/ensure-postgres.sh
	$(PY) bench/engine.py --shape chain --n 1000 --persist sqlite --repeat 3 --warmup 1
	$(PY) bench/engine.py --shape fanout --n 1000 --persist sqlite --repeat 3 --warmup 1

# The README's pictures (docs/images): a real server and a headless Chromium.
screenshots: install
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache *.egg-info
