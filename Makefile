# Bookbridge: `make demo` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck pytest pytest-postgres browser i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded by Playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will skip)"; fi; }

demo: install
	$(BIN)/bookbridge demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest -n auto --dist loadfile -q

pytest-postgres: install
	BOOKBRIDGE_TEST_DATABASE_URL=$${BOOKBRIDGE_TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	  $(BIN)/pytest -n auto --dist loadfile -q -m "not browser"

test: install browser lint typecheck pytest

# Refresh the message catalogues after changing reader-facing text; then translate bot/locales/zh.
i18n: install
	$(BIN)/pybabel -q extract -k _ -k __ -k N_ -k ngettext:1,2 --sort-by-file --no-location --project=bookbridge --no-wrap \
	  --omit-header -o bot/locales/messages.pot bot handlers jobs
	$(BIN)/pybabel -q update --no-wrap --ignore-obsolete -i bot/locales/messages.pot \
	  -d bot/locales -D messages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-output *.egg-info
