"""Parse cost: what importing the provider adds on top of ``airflow.sdk``, and DagBag time per example DAG."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import ROOT, Row

MODULES = (
    "airflow_provider_vimmerse.operators.story",
    "airflow_provider_vimmerse.operators.download",
    "airflow_provider_vimmerse.sensors.story",
)
_IMPORT = """
import json, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
{imports}
t2 = time.perf_counter()
print(json.dumps({{"sdk": t1 - t0, "added": t2 - t1}}))
"""
_PARSE = """
import json, sys, time
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow < 3.2
    from airflow.models.dagbag import DagBag
import airflow_provider_vimmerse.operators.story  # warm the provider, like a running DAG processor
results = {}
for path in sys.argv[1:]:
    t = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)
    results[path] = {"seconds": time.perf_counter() - t, "errors": len(bag.import_errors)}
print(json.dumps(results))
"""
_TRIVIAL_DAG = """
import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("trivial", schedule="@daily", start_date=pendulum.datetime(2026, 1, 1), catchup=False):
    EmptyOperator(task_id="a") >> EmptyOperator(task_id="b")
"""


def _python(code: str, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(rounds: int = 5) -> list[Row]:
    imports = "\n".join(f"import {module}" for module in MODULES)
    runs = [_python(_IMPORT.format(imports=imports)) for _ in range(rounds)]
    added = statistics.median(r["added"] for r in runs) * 1000
    sdk = statistics.median(r["sdk"] for r in runs) * 1000
    rows = [
        Row(
            "import of operator modules on top of airflow.sdk",
            f"+{added:.0f} ms",
            f"{sdk:.0f} ms (airflow.sdk)",
            added / sdk,
            "<= 50 ms added",
            added <= 50,
        )
    ]

    trivial = Path(tempfile.mkdtemp(prefix="vimmerse-bench-")) / "trivial_dag.py"
    trivial.write_text(_TRIVIAL_DAG)
    dags = sorted(str(p) for p in (ROOT / "example_dags").glob("*.py") if not p.name.startswith("_"))
    samples = [_python(_PARSE, str(trivial), *dags) for _ in range(rounds)]
    base = statistics.median(s[str(trivial)]["seconds"] for s in samples) * 1000
    for dag in dags:
        seconds = statistics.median(s[dag]["seconds"] for s in samples) * 1000
        errors = samples[0][dag]["errors"]
        rows.append(
            Row(
                f"DagBag parse {Path(dag).name}",
                f"{seconds:.0f} ms",
                f"{base:.0f} ms (2-task DAG)",
                seconds / base,
                "<= 200 ms, no errors",
                seconds <= 200 and errors == 0,
            )
        )
    return rows
