# Two commands for a new user: `make demo` (install + small benchmark) and `make test`.
#
# `make install` builds .venv with exactly the versions in requirements/lock.txt (every extra:
# deep, dask, test, dev) through uv; `make lock` regenerates that file on purpose.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
LOCK := requirements/lock.txt
PYTEST_ARGS ?=
# A local folder of wheels searched before PyPI (torch's CUDA wheels are ~3 GB to download).
# Set WHEELHOUSE= to ignore it; the versions installed are the lock's either way.
WHEELHOUSE ?= $(wildcard /opt/pypi-more/files)
FIND_LINKS := $(if $(WHEELHOUSE),--find-links $(WHEELHOUSE),)
# Coverage is printed by every test run (term summary, one line per module).
COV_ARGS ?= --cov=neurodec --cov-report=term:skip-covered --durations=15

.PHONY: demo test test-fast install lock lint format check-core clean-cache

$(VENV)/.installed: $(LOCK) pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --python $(PY) $(FIND_LINKS) $(LOCK)
	$(UV) pip install --python $(PY) --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed

# Regenerate the lock: every extra, for CPython 3.11 on Linux x86-64, newest versions in range.
lock:
	$(UV) pip compile pyproject.toml --all-extras --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -o $(LOCK)

demo: install
	$(VENV)/bin/neurodec demo

test: install
	$(PY) -m pytest $(COV_ARGS) $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The core install (no extras) from the lock's versions, in its own venv: it must import
# neurodec without torch/dask and run a Riemannian benchmark on real data.
CORE_VENV ?= $(or $(TMPDIR),/tmp)/neurodec-core
check-core: install
	rm -rf $(CORE_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(CORE_VENV)
	$(UV) pip install --python $(CORE_VENV)/bin/python $(FIND_LINKS) -c $(LOCK) .
	$(CORE_VENV)/bin/python -c "import importlib.util as u, sys; \
		extra = [m for m in ('torch', 'braindecode', 'dask', 'distributed', 'mne_lsl') if u.find_spec(m)]; \
		sys.exit(f'core install pulled optional packages: {extra}' if extra else 0)"
	mkdir -p $(CORE_VENV)/pipes && cp pipelines/mdm.yml pipelines/ts_lr.yml $(CORE_VENV)/pipes/
	cd $(CORE_VENV) && bin/neurodec benchmark --pipelines pipes --datasets PhysionetMI \
		--data-root $(or $(NEURODEC_DATA),$(CURDIR)/../shared/data) --subjects 1 --evaluations within-session \
		--results results --no-plots

clean-cache:
	rm -rf .neurodec_cache
