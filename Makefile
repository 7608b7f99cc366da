# Two commands for a new machine: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV ?= .venv
LOWEST_VENV ?= .venv-lowest
SANDBOX_VENV ?= .venv-sandbox
# The newest Airflow we develop against, and the lowest one we claim to support.
AIRFLOW_VERSION ?= 3.3.2
LOWEST_AIRFLOW_VERSION ?= 3.1.8
PY := $(VENV)/bin/python
PIP_INSTALL := PIP_DISABLE_PIP_VERSION_CHECK=1 $(PY) -m pip install --quiet --progress-bar off
PYTEST_ARGS ?=
# Four workers on two cores: the integration tier is mostly CPU-bound, and the extra workers fill
# the time others wait on sandboxes and Airflow processes (measured faster than three).
# Each worker has its own AIRFLOW_HOME and database (tests/conftest.py); the tests of a module
# that starts whole Airflow deployments share one worker (xdist_group per module).
XDIST ?= -n 4 --dist loadgroup

.PHONY: install test test-unit test-sandbox test-production test-lowest lint docs demo bench dist clean stubs constraints
DEMO_DIR := $(CURDIR)/.demo
# The sandbox is its own distribution: installed from ./sandbox like a user's CI would, and
# reinstalled when its sources change.
SANDBOX_SOURCES := sandbox/pyproject.toml $(shell find sandbox/src -name '*.py' 2>/dev/null)

$(VENV)/.installed: pyproject.toml Makefile constraints/airflow-$(AIRFLOW_VERSION).txt $(SANDBOX_SOURCES)
	@echo "Installing Airflow $(AIRFLOW_VERSION), the provider and the sandbox into $(VENV) (log: $(VENV)/install.log)..."
	@$(PYTHON) -m venv $(VENV)
	@{ $(PIP_INSTALL) --upgrade pip && \
	   $(PIP_INSTALL) -c constraints/airflow-$(AIRFLOW_VERSION).txt "apache-airflow[celery,postgres]==$(AIRFLOW_VERSION)" ./sandbox \
	       -e ".[test,docs,lint,openlineage]"; } \
	    > $(VENV)/install.log 2>&1 || { tail -n 30 $(VENV)/install.log; echo "Install failed; log: $(VENV)/install.log"; exit 1; }
	@touch $@

install: $(VENV)/.installed

# Everything: the provider's unit and integration tiers, the production-shaped tier, then the
# sandbox's own tests.
test: install
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-production
	$(MAKE) --no-print-directory test-sandbox

# The production-shaped tier (tests/production): CeleryExecutor with one worker, PostgreSQL and Redis
# (from Debian's packages, installed when missing), api-server, scheduler, dag-processor and two
# triggerers; the example DAGs run through the scheduler. Installing the servers needs root (as CI
# runs) or them already installed.
test-production: install
	@sh tests/production/install-services.sh
	$(PY) -m pytest tests/production -p no:xdist -v -s $(PYTEST_ARGS)

# The fast tier: pure logic, no subprocess, no sandbox.
test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# The sandbox alone, in a venv of its own: proves `pip install ./sandbox` is all it needs.
$(SANDBOX_VENV)/.installed: $(SANDBOX_SOURCES)
	@$(PYTHON) -m venv $(SANDBOX_VENV)
	@PIP_DISABLE_PIP_VERSION_CHECK=1 $(SANDBOX_VENV)/bin/python -m pip install --quiet --progress-bar off "./sandbox[test]" \
	    > $(SANDBOX_VENV)/install.log 2>&1 || { tail -n 30 $(SANDBOX_VENV)/install.log; exit 1; }
	@touch $@

test-sandbox: $(SANDBOX_VENV)/.installed
	cd sandbox && $(CURDIR)/$(SANDBOX_VENV)/bin/python -m pytest -n 4 $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The constraints files (docs/installation.md), from the venvs a green make test / make test-lowest used.
constraints: install $(LOWEST_VENV)/.installed
	@for pair in "$(AIRFLOW_VERSION):$(VENV)" "$(LOWEST_AIRFLOW_VERSION):$(LOWEST_VENV)"; do \
	    version=$${pair%%:*}; venv=$${pair##*:}; file=constraints/airflow-$$version.txt; \
	    { echo "# Resolved and tested with Python 3.11 by \`make test\` (Airflow $$version): pip install -c $$file ..."; \
	      echo "# Regenerate: make constraints (after a green make test / make test-lowest)."; \
	      $$venv/bin/python -m pip freeze --exclude-editable | grep -v "@ file://" | sort -f; \
	      echo "# Not installed by the provider, pinned for deployments that add it: 5.7.0 breaks the Celery provider."; \
	      echo "celery<5.7.0"; } > $$file; echo "wrote $$file"; done

# The typed stubs (hooks/vimmerse.pyi, operators/story.pyi) from the endpoint specs; a unit test
# fails when they are stale.
stubs: install
	$(PY) -m airflow_provider_vimmerse._signatures

$(LOWEST_VENV)/.installed: pyproject.toml Makefile constraints/airflow-$(LOWEST_AIRFLOW_VERSION).txt $(SANDBOX_SOURCES)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST_VENV)/bin/python -m pip install --quiet -c constraints/airflow-$(LOWEST_AIRFLOW_VERSION).txt \
	    "apache-airflow==$(LOWEST_AIRFLOW_VERSION)" ./sandbox -e ".[test]"
	touch $@

# The lowest supported Airflow, so the declared range is true: the unit tier, and the integration
# tests of each component against that Airflow's own machinery (hook, operators
# through dag.test, sensor, trigger, links, the examples loading, the UI's Test button, which each
# version's api-server answers differently). The rest of the integration tier tests our code and the
# sandbox, not Airflow, and runs on the newest only to keep CI short: `make test-lowest
# LOWEST_TESTS=tests` runs all of it (it passes).
LOWEST_TESTS ?= tests/unit tests/integration/hooks/test_vimmerse.py tests/integration/hooks/test_vimmerse_async.py \
    tests/integration/operators/test_story.py tests/integration/sensors \
    tests/integration/triggers/test_story.py tests/integration/links \
    tests/integration/example_dags/test_example_dags.py::test_every_example_dag_loads_without_errors_or_warnings
test-lowest: $(LOWEST_VENV)/.installed
	$(LOWEST_VENV)/bin/python -m pytest $(XDIST) -m "not processes" $(LOWEST_TESTS) $(PYTEST_ARGS)
	$(LOWEST_VENV)/bin/python -m pytest tests/integration/hooks/test_ui_test_button.py

# Benchmarks: not part of `make test`. BENCH_ARGS=--full for the recorded sizes, --record to save them.
BENCH_ARGS ?=
bench: install
	$(PY) -m benchmarks.run $(BENCH_ARGS)

docs: install
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

# The main example DAG on a local sandbox: no key, no network, a real MP4 at the end.
demo: install
	@rm -rf "$(DEMO_DIR)/sandbox" "$(DEMO_DIR)/url" && mkdir -p "$(DEMO_DIR)/output"
	@set -e; \
	$(VENV)/bin/vimmerse-sandbox --port 0 --speed 20 --api-key demo-key --quiet \
	    --data-dir "$(DEMO_DIR)/sandbox" --static-dir "$(CURDIR)/example_dags/data" \
	    --url-file "$(DEMO_DIR)/url" > "$(DEMO_DIR)/sandbox.log" 2>&1 & SANDBOX=$$!; \
	trap 'kill $$SANDBOX 2>/dev/null; wait $$SANDBOX 2>/dev/null || true' EXIT; \
	for i in $$(seq 1 100); do [ -s "$(DEMO_DIR)/url" ] && break; sleep 0.1; done; \
	URL=$$(cat "$(DEMO_DIR)/url"); echo "Sandbox running at $$URL for this demo; running vimmerse_idea_to_video..."; \
	export AIRFLOW_HOME="$(DEMO_DIR)/airflow" AIRFLOW__CORE__DAGS_FOLDER="$(CURDIR)/example_dags" \
	    AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__VIMMERSE__POLL_INTERVAL=1 \
	    AIRFLOW_CONN_VIMMERSE_DEFAULT="{\"conn_type\": \"vimmerse\", \"host\": \"$$URL\", \"password\": \"demo-key\", \"extra\": {\"story_url_template\": \"$$URL/stories/{story_id}\"}}"; \
	$(VENV)/bin/airflow db migrate > "$(DEMO_DIR)/airflow-db.log" 2>&1; \
	$(VENV)/bin/airflow dags test vimmerse_idea_to_video --conf "{\"output_base\": \"file://$(DEMO_DIR)/output\"}" \
	    > "$(DEMO_DIR)/dag-test.log" 2>&1 \
	    || { tail -n 40 "$(DEMO_DIR)/dag-test.log"; echo "Demo failed; full log: $(DEMO_DIR)/dag-test.log"; exit 1; }; \
	grep -q "DagRun Finished: dag_id=vimmerse_idea_to_video.*state=success" "$(DEMO_DIR)/dag-test.log" \
	    || { tail -n 40 "$(DEMO_DIR)/dag-test.log"; echo "Demo DAG did not succeed; log: $(DEMO_DIR)/dag-test.log"; exit 1; }; \
	VIDEO=$$(ls -t "$(DEMO_DIR)"/output/idea_to_video/*/story.mp4 | head -n 1); PREVIEW=$$(dirname "$$VIDEO")/preview.png; \
	STORY=$$(basename "$$(dirname "$$VIDEO")"); \
	echo ""; echo "Story video:        $$VIDEO"; echo "Storyboard preview: $$PREVIEW"; \
	echo "Story page:         $$URL/stories/$$STORY"; \
	if [ -t 0 ]; then printf "%s" "The sandbox serves that page until you press Enter... "; read -r _; fi; \
	echo "(The demo's sandbox has been stopped; start your own with: $(VENV)/bin/vimmerse-sandbox --port 8765)"

# Wheels of both distributions (the provider and the sandbox) into dist/.
dist: install
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir dist . ./sandbox
	@ls dist/*.whl

clean:
	rm -rf $(VENV) $(LOWEST_VENV) $(SANDBOX_VENV) docs/_build docs/_generated .pytest_cache .demo .ci-logs
