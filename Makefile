# Set-up and the two everyday commands. Each target creates the virtualenv
# (.venv) and installs the project first if needed, so on a fresh clone
# `make demo` and `make test` are all it takes.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m compileall -q system tester  # producers start without compiling
	touch $(STAMP)

demo: $(STAMP)  ## run the basic scenario on the embedded defaults
	$(PY) -m tester --scenario basic

test: $(STAMP)  ## run the whole test suite in parallel (-n auto: 4 workers a core, tests/conftest.py)
	$(PY) -m pytest -n auto

lint: $(STAMP)  ## ruff, then mypy (as in .ci/run)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) artifacts output .pytest_cache
