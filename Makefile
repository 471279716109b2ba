# Two commands for a new user: `make demo` (install + small benchmark) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test install clean-cache

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/neurodec demo

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

clean-cache:
	rm -rf .neurodec_cache
