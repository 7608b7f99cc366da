"""
What a DAG author's tools see: mypy (through the package's stubs and py.typed), Airflow's DAG parser;
and mypy on the provider's own code.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# One xdist worker runs the mypy checks, so the later ones reuse the first's cache (a cold check of Airflow
# costs about 20 s of CPU).
pytestmark = pytest.mark.xdist_group("mypy")

GOOD = """
from airflow.sdk import DAG

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.story import VimmerseCreateVideosOperator, VimmerseIdeaToVideoOperator

with DAG("good", schedule=None):
    video = VimmerseIdeaToVideoOperator(task_id="idea", idea="hi", scene_count=3, aspect_ratio="16:9", retries=2)
    VimmerseCreateVideosOperator(task_id="videos", story_id=video.output, duration="{{ params.seconds }}")

reveal_type(VimmerseHook().idea_to_video("x"))
"""

BAD = """
from airflow.sdk import DAG

from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

with DAG("bad", schedule=None):
    VimmerseIdeaToVideoOperator(task_id="idea", idea="hi", scen_count=3)
    VimmerseIdeaToVideoOperator(task_id="ratio", idea="hi", aspect_ratio=16)
VimmerseHook().idea_to_video("x", aspect_ratio="16x9")
"""


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory) -> Path:
    """One cache for the module: the second check reuses what the first learnt of Airflow."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> list[str]:
    api = pytest.importorskip("mypy.api", reason="mypy comes with the lint extra")
    dag = tmp_path / "dag.py"
    dag.write_text(textwrap.dedent(source))
    monkeypatch.chdir(ROOT)  # the package as a user's checker finds it, with its stubs
    out, _err, _status = api.run([str(dag), "--cache-dir", str(cache), "--no-error-summary"])
    return [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith(str(dag))]


def test_mypy_accepts_a_correct_dag_and_sees_the_hooks_return_type(tmp_path, mypy_cache, monkeypatch):
    said = _mypy(tmp_path, mypy_cache, monkeypatch, GOOD)
    assert said == ['note: Revealed type is "airflow_provider_vimmerse.models.VimmerseStory"']


def test_mypy_rejects_a_misspelled_argument_and_wrongly_typed_literals(tmp_path, mypy_cache, monkeypatch):
    said = "\n".join(_mypy(tmp_path, mypy_cache, monkeypatch, BAD))
    assert 'Unexpected keyword argument "scen_count"' in said and 'did you mean "scene_count"' in said
    assert 'Argument "aspect_ratio" to "VimmerseIdeaToVideoOperator" has incompatible type "Literal[16]"' in said
    assert (
        'Argument "aspect_ratio" to "idea_to_video" of "VimmerseHook" has incompatible type "Literal[\'16x9\']"' in said
    )


@pytest.mark.parametrize(
    ("call", "named"),
    [("scen_count=3", "scen_count"), ('aspect_ratio="16x9"', "aspect_ratio"), ("scene_count=0", "scene_count")],
)
def test_the_dag_parser_reports_a_bad_argument_by_name(tmp_path, call, named):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    (tmp_path / "dag.py").write_text(
        textwrap.dedent(
            f"""
            from airflow.sdk import DAG
            from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

            with DAG("parsed", schedule=None):
                VimmerseIdeaToVideoOperator(task_id="idea", idea="hi", {call})
            """
        )
    )
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.dags == {} and named in "\n".join(bag.import_errors.values())


def test_the_provider_itself_type_checks(mypy_cache, monkeypatch):
    api = pytest.importorskip("mypy.api", reason="mypy comes with the lint extra")
    monkeypatch.chdir(ROOT)
    out, _err, status = api.run(["airflow_provider_vimmerse", "--cache-dir", str(mypy_cache)])
    assert status == 0, out
