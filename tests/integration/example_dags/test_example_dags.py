"""The example DAGs: they load cleanly, and each runs end to end with `airflow dags test` on the sandbox."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageStat

from tests.conftest import API_KEY
from tests.integration.conftest import stats
from tests.integration.dag_runner import dags_test, example_conf, example_dags_environment
from tests.integration.media import first_frame_mean, probe
from tests.integration.sandbox_process import SandboxProcess

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "example_dags"
DAG_IDS = [
    "vimmerse_idea_to_video",
    "vimmerse_story_step_by_step",
    "vimmerse_data_to_video",
    "vimmerse_story_from_images",
    "vimmerse_url_to_video",
    "vimmerse_images_to_video",
    "vimmerse_publish_finished_stories",
]


def test_every_example_dag_loads_without_errors_or_warnings():
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(EXAMPLES), safe_mode=False)
    assert bag.import_errors == {}
    # Airflow 3.1 warns about its own moved modules (DeprecatedImportWarning) while loading the
    # standard provider's operators, with the DAG file as the warning's location; the examples
    # themselves import only current paths. Anything else attributed to our files is a failure.
    ours = [w for w in caught if str(ROOT) in str(w.filename) and type(w.message).__name__ != "DeprecatedImportWarning"]
    assert ours == [], [str(w.message) for w in ours]
    assert sorted(bag.dag_ids) == sorted(DAG_IDS)
    for dag_id in DAG_IDS:
        assert bag.dags[dag_id].doc_md, f"{dag_id} has no docstring"


def test_one_setting_is_every_examples_default_output(monkeypatch):
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW__VIMMERSE__OUTPUT_BASE", "s3://company-videos/vimmerse")
    bag = DagBag(dag_folder=str(EXAMPLES), safe_mode=False)
    defaults = {dag_id: dag.params["output_base"] for dag_id, dag in bag.dags.items() if "output_base" in dag.params}
    assert sorted(defaults) == sorted(DAG_IDS)
    assert set(defaults.values()) == {"s3://company-videos/vimmerse"}
    outputs = [value for dag in bag.dags.values() for value in dag.params.dump().values()]
    assert not any(str(value).startswith("file:///tmp") for value in outputs)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A sandbox serving the sample assets, and an Airflow home whose DAGs are the examples."""
    root = tmp_path_factory.mktemp("examples")
    with SandboxProcess(root / "sandbox", api_key=API_KEY, speed=100, static_dir=EXAMPLES / "data") as sandbox:
        env = example_dags_environment(root / "airflow", root / "output", sandbox, API_KEY)
        yield sandbox, env, root / "output"


def run_example(world, dag_id: str, *, api_version: str | None = None, **conf) -> str:
    """Run an example DAG; ``api_version`` sets the connection's extra (unset: v2, the default)."""
    sandbox, env, output = world
    if api_version is not None:
        connection = json.loads(env["AIRFLOW_CONN_VIMMERSE_DEFAULT"])
        env = {
            **env,
            "AIRFLOW_CONN_VIMMERSE_DEFAULT": json.dumps({**connection, "extra": {"api_version": api_version}}),
        }
    return dags_test(env, dag_id, {**example_conf(output, sandbox), **conf})


def _decodes_with_sound(path: Path) -> dict:
    info = probe(path.read_bytes())
    assert (info["video_codec"], info["audio_codec"]) == ("h264", "aac") and info["frames"] > 10
    return info


def _opens_on(video: Path, image: str) -> None:
    """The video's first frame is the shipped image (its mean colour, within the camera move's crop)."""
    expected = ImageStat.Stat(Image.open(EXAMPLES / "data" / "images" / image).convert("RGB")).mean
    actual = first_frame_mean(video.read_bytes())
    assert all(abs(a - e) < 25 for a, e in zip(actual, expected)), (actual, expected)


def test_idea_to_video_runs_never_overwrite_each_other(world, tmp_path):
    """
    Two runs on the same day and one without a logical date leave three complete, different videos,
    each a 640x360 video with sound and its storyboard preview.
    """
    sandbox, env, _ = world
    output = tmp_path / "output"
    conf = {**example_conf(output, sandbox), "topic": "a robot who learns to paint"}
    dags_test(env, "vimmerse_idea_to_video", conf)
    dags_test(env, "vimmerse_idea_to_video", conf)
    script = (
        "import json, os, sys\n"
        "sys.path.insert(0, os.environ['AIRFLOW__CORE__DAGS_FOLDER'])  # as Airflow's own programs do\n"
        "try:\n"
        "    from airflow.dag_processing.dagbag import DagBag\n"
        "except ImportError:\n"
        "    from airflow.models.dagbag import DagBag\n"
        "dag = DagBag().get_dag('vimmerse_idea_to_video')\n"
        "run = dag.test(logical_date=None, run_conf=json.loads(sys.argv[1]))\n"
        "print('RUN', run.logical_date, run.state)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(conf)], env=env, capture_output=True, text=True, timeout=600
    )
    log = result.stdout + result.stderr
    assert "RUN None success" in result.stdout, log[log.find("Traceback") - 2000 :][:6000]
    folders = sorted(output.glob("idea_to_video/*"))
    assert len(folders) == 3
    digests = set()
    for folder in folders:
        video = folder / "story.mp4"
        info = _decodes_with_sound(video)
        assert info["size"] == (640, 360) and info["duration"] > 10
        assert Image.open(folder / "preview.png").width > 600
        digests.add(hashlib.sha256(video.read_bytes()).hexdigest())
    assert len(digests) == 3


def test_step_by_step_with_approval_off(world):
    sandbox, _, output = world
    log = run_example(world, "vimmerse_story_step_by_step")
    (video,) = output.glob("step_by_step/*/story.mp4")
    _decodes_with_sound(video)
    assert (video.parent / "preview.png").stat().st_size > 1000
    story_id = video.parent.name
    story = requests.get(f"{sandbox.url}/story/{story_id}", headers={"X-Api-Key": API_KEY}, timeout=10).json()["data"]
    assert story["storyboard"]["characters"][0]["name"] == "Clover"
    assert story["storyboard"]["scenes"][0]["narrator"].startswith("Meet Clover")
    # The edit renames the hero in every place the name appears (titles and captions are on screen).
    generated = _return_value(world, "vimmerse_story_step_by_step", "storyboard")["storyboard"]
    old = generated["characters"][0]["name"].split()[-1]
    assert old.lower() != "clover" and old.lower() not in json.dumps(story["storyboard"]).lower()
    for before, after in zip(generated["scenes"], story["storyboard"]["scenes"]):
        if old.lower() in before["name"].lower():  # the scene's title, drawn on screen
            assert "Clover" in after["name"]
    assert "review" in log
    # The approval prompt shows what is approved: every scene's image (by its http URL) and narration.
    prompt = _return_value(world, "vimmerse_story_step_by_step", "review_notes")
    assert story_id in prompt
    for scene in story["storyboard"]["scenes"]:
        assert f"]({scene['image_url']})" in prompt and scene["image_url"].startswith("http")
        assert scene["narrator"] in prompt


def _return_value(world, dag_id: str, task_id: str):
    import sqlite3

    with sqlite3.connect(Path(world[1]["AIRFLOW_HOME"]) / "airflow.db") as db:
        rows = db.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'", (dag_id, task_id)
        ).fetchall()
    (value,) = [row[0] for row in rows][-1:]
    return json.loads(value)


def test_data_to_video_run_twice_in_a_day_stops_at_the_daily_budget(world):
    sandbox, _, output = world
    created_before = stats(sandbox)["stories_created"]
    budget = {"daily_budget": "catalogue_test", "daily_budget_credits": 600}  # 100 credits a video, by the pricing
    rows = (EXAMPLES / "data" / "products.csv").read_text().strip().splitlines()[1:]
    manifests = []
    for _ in range(2):
        before = set(output.glob("catalogue/*/manifest.json"))
        run_example(world, "vimmerse_data_to_video", **budget)
        (manifest_path,) = set(output.glob("catalogue/*/manifest.json")) - before
        manifests.append(json.loads(manifest_path.read_text()))
        assert (manifest_path.parent / "manifest.csv").read_text().count("\n") == len(rows) + 1
    first, second = manifests
    assert len(first) == len(second) == len(rows) == 5
    assert [entry["status"] for entry in first] == ["success"] * 5  # 500 of 600 credits
    # The same day, the second run gets what the first left: one video, and the rest skipped.
    assert [entry["status"] for entry in second] == ["success"] + ["skipped: daily credit budget"] * 4
    assert stats(sandbox)["stories_created"] - created_before == 6
    done = [entry for entry in first + second if entry["status"] == "success"]
    assert sum(entry["used_credits"] for entry in done) <= 600
    assert all(entry["estimated_credits"] == entry["used_credits"] == 100 for entry in done)
    assert all(entry["used_credits"] == 0 for entry in second[1:])
    for entry in done[:1]:
        _decodes_with_sound(Path(entry["video"]))


def test_story_from_images_uses_the_supplied_images_on_the_legacy_api(world):
    sandbox, _, output = world
    legacy_before = stats(sandbox)["requests"].get("POST /story/{story_id}/videos", 0)
    run_example(world, "vimmerse_story_from_images", api_version="legacy")
    (video,) = output.glob("from_images/*.mp4")
    _decodes_with_sound(video)
    _opens_on(video, "harbor.png")
    requests_seen = stats(sandbox)["requests"]
    assert requests_seen.get("GET /static/{path}", 0) >= 4  # 3 scenes, the captain, the music
    assert requests_seen["POST /story/{story_id}/videos"] == legacy_before + 1  # Legacy paths, as configured


def test_url_to_video_reads_the_local_page(world):
    sandbox, _, output = world
    run_example(world, "vimmerse_url_to_video")
    (video,) = output.glob("from_page/*.mp4")
    _decodes_with_sound(video)
    story = requests.get(f"{sandbox.url}/story/{video.stem}", headers={"X-Api-Key": API_KEY}, timeout=10).json()["data"]
    assert story["storyboard"]["scenes"][0]["name"] == "Scene 1: Harbor Light Lantern"
    assert story["storyboard"]["scenes"][0]["image_url"].endswith("/static/images/lighthouse.png")


def test_images_to_video_animates_the_shipped_images(world):
    output = world[2]
    run_example(world, "vimmerse_images_to_video")
    (video,) = output.glob("from_image_urls/*.mp4")
    _decodes_with_sound(video)
    _opens_on(video, "harbor.png")


def _lineage_events(world) -> list[dict]:
    path = Path(world[1]["AIRFLOW_HOME"]) / "openlineage.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def test_openlineage_events_chain_the_page_the_story_and_the_video_file(world):
    pytest.importorskip("airflow.providers.openlineage", reason="the [openlineage] extra is not installed")
    sandbox, _, output = world
    before = set(output.glob("from_page/*.mp4"))
    run_example(world, "vimmerse_url_to_video")
    (video,) = set(output.glob("from_page/*.mp4")) - before
    story = f"story/{video.stem}"
    namespace = "vimmerse://" + sandbox.url.split("://", 1)[1]
    complete = {
        event["job"]["name"]: event
        for event in _lineage_events(world)
        if event["eventType"] == "COMPLETE"
        and event["job"]["name"].startswith("vimmerse_url_to_video.")
        and any(d["name"] == story for d in event.get("outputs", []) + event.get("inputs", []))
    }
    created = complete["vimmerse_url_to_video.page_video"]
    (page,) = created["inputs"]
    assert page["namespace"] == sandbox.url and page["name"] == "/static/page/index.html"
    (written,) = created["outputs"]
    assert (written["namespace"], written["name"]) == (namespace, story)
    facet = written["facets"]["vimmerse_story"]
    assert facet["story_id"] == video.stem and facet["status"] == "success" and facet["video_url"]
    assert facet["scene_count"] == 3 and facet["used_credits"] > 0
    assert facet["estimated_credits"] == facet["used_credits"] == 150  # the bill: Auto, 3 scenes x 5 s
    assert created["run"]["facets"]["vimmerse_request"]["endpoint"] == "url_to_video"
    downloaded = complete["vimmerse_url_to_video.download_video"]
    assert [(d["namespace"], d["name"]) for d in downloaded["inputs"]] == [(namespace, story)]
    assert [(d["namespace"], d["name"]) for d in downloaded["outputs"]] == [("file", str(video))]
    # Every story task and every download of every example run in this module reports the same shape.
    for event in _lineage_events(world):
        operator = event["run"]["facets"].get("airflow", {}).get("task", {}).get("operator_class", "")
        if event["eventType"] != "COMPLETE" or not operator.startswith("Vimmerse"):
            continue
        if operator == "VimmerseDownloadVideoOperator":
            ((source,), (target,)) = event["inputs"], event["outputs"]
            assert source["namespace"] == namespace and source["name"].startswith("story/")
            assert target["namespace"] == "file" and Path(target["name"]).is_file()
        else:
            (written,) = event["outputs"]
            assert written["namespace"] == namespace and written["name"].startswith("story/")
            assert written["facets"]["vimmerse_story"]["status"] == "success", event["job"]["name"]
