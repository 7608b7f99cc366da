# Two commands for a new machine: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV ?= .venv
LOWEST_VENV ?= .venv-lowest
# The newest Airflow we develop against, and the lowest one we claim to support.
AIRFLOW_VERSION ?= 3.3.2
LOWEST_AIRFLOW_VERSION ?= 3.1.8
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install test test-lowest docs demo bench clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)" -e ".[sandbox,test,docs]"
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

$(LOWEST_VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST_VENV)/bin/python -m pip install --quiet "apache-airflow==$(LOWEST_AIRFLOW_VERSION)" -e ".[sandbox,test]"
	touch $@

# The same suite on the lowest supported Airflow, so the declared range is true.
test-lowest: $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Benchmarks: not part of `make test`. BENCH_ARGS=--full for the recorded sizes, --record to save them.
BENCH_ARGS ?=
bench: install
	$(PY) -m benchmarks.run $(BENCH_ARGS)

docs: install
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) $(LOWEST_VENV) docs/_build .pytest_cache
