"""The documentation's code snippets run: DAG snippets as real DAG runs against the sandbox."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.dag_runner import run_dag

DOCS = Path(__file__).resolve().parents[3] / "docs"
# A snippet the tests run is marked by an HTML comment before its block, which the docs do not render.
BLOCK = re.compile(r"<!-- snippet: (dag|async) -->\n```python\n(.*?)```", re.S)


def _snippets(kind: str) -> list:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for index, match in enumerate(BLOCK.finditer(page.read_text())):
            if match.group(1) == kind:
                found.append(pytest.param(match.group(2), id=f"{page.stem}-{index}"))
    return found


def test_the_snippet_pattern_still_finds_the_docs_snippets():
    # The longer examples are included from example_dags/ (run by the example DAG tests).
    assert _snippets("dag") and _snippets("async")


@pytest.mark.parametrize("source", _snippets("dag"))
def test_dag_snippet_runs(source, sandbox_conn, airflow_db):
    dag_id = re.search(r'DAG\("([^"]+)"', source).group(1)
    dag_run = run_dag(dag_id, source)
    assert dag_run.state == "success", dag_id


@pytest.mark.parametrize("source", _snippets("async"))
def test_async_snippet_runs(source, sandbox_conn, tmp_path):
    script = tmp_path / "snippet.py"
    script.write_text(source)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'status': 'success'" in result.stdout
