"""
### A story step by step, with a preview before paying for animation

The advanced flow of the Story API, with people in the loop where it matters:

1. **storyboard**: `POST /story` writes a storyboard from the idea.
2. **edit_storyboard**: plain Python edits it: renames the hero and rewrites the first narration
   line (your brand voice, a legal review, ...).
3. **elements** and **scenes**: character images, music, scene images and narration.
4. **storyboard_preview**: a PNG contact sheet of the scene images with their names and
   narration, so a reviewer sees the story before the expensive animation step.
5. **review**: an optional human approval (Airflow's HITL `ApprovalOperator`), switched on with
   the `require_approval` param; off by default so the DAG runs unattended.
6. **videos** and **download_video**: animation, the story video, and the MP4 on disk.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, ObjectStoragePath, Param, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import (
    VimmerseCreateElementsOperator,
    VimmerseCreateScenesOperator,
    VimmerseCreateStoryboardOperator,
    VimmerseCreateVideosOperator,
)

OUTPUT_BASE = os.environ.get("VIMMERSE_OUTPUT_BASE", "file:///tmp/vimmerse-output")
POLL_INTERVAL = float(os.environ.get("VIMMERSE_POLL_INTERVAL", "30"))
WAIT = {"poll_interval": POLL_INTERVAL, "deferrable": True}

with DAG(
    dag_id="vimmerse_story_step_by_step",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    params={
        "idea": Param("A bunny walks through the forest and finds honey flowing from a tree", type="string"),
        "hero_name": Param("Clover", type="string"),
        "require_approval": Param(False, type="boolean", description="Wait for a human to approve the preview"),
        "output_base": Param(OUTPUT_BASE, type="string"),
    },
) as dag:
    storyboard = VimmerseCreateStoryboardOperator(
        task_id="storyboard", idea="{{ params.idea }}", scene_count=3, audio_option={"narrator": "Lily"}, **WAIT
    )
    story_id = storyboard.output["story_id"]

    @task
    def edit_storyboard(result: dict, params=None) -> dict:
        """Rename the hero everywhere and open with our own line."""
        board = result["storyboard"]
        old_name = board["characters"][0]["name"]
        replace = lambda text: text.replace(old_name, params["hero_name"])  # noqa: E731
        board["characters"][0]["name"] = params["hero_name"]
        for scene in board["scenes"]:
            scene["image_description"] = replace(scene.get("image_description", ""))
            scene["narrator"] = replace(scene.get("narrator", ""))
        board["scenes"][0]["narrator"] = f"Meet {params['hero_name']}, who never says no to an adventure."
        return board

    elements = VimmerseCreateElementsOperator(
        task_id="elements",
        story_id=story_id,
        storyboard=edit_storyboard(storyboard.output),
        aspect_ratio="16:9",
        **WAIT,
    )
    scenes = VimmerseCreateScenesOperator(task_id="scenes", story_id=story_id, **WAIT)

    @task
    def storyboard_preview(story_id: str, params=None, run_id=None) -> str:
        """The contact sheet a reviewer looks at before animation is paid for."""
        from storyboard_preview import storyboard_preview as render

        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        target = ObjectStoragePath(params["output_base"]) / "step_by_step" / story_id / "preview.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(VimmerseHook(), story_id))
        return str(target)

    preview = storyboard_preview(story_id)

    @task.branch
    def choose_review(params=None) -> str:
        return "review" if params["require_approval"] else "auto_approved"

    review = ApprovalOperator(
        task_id="review",
        subject="Approve this storyboard for animation?",
        body="The preview is at {{ ti.xcom_pull('storyboard_preview') }}",
    )
    auto_approved = EmptyOperator(task_id="auto_approved")
    videos = VimmerseCreateVideosOperator(
        task_id="videos", story_id=story_id, trigger_rule="none_failed_min_one_success", **WAIT
    )
    download = VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=story_id,
        destination="{{ params.output_base }}/step_by_step/{{ ti.xcom_pull('storyboard', key='story_id') }}/story.mp4",
    )
    elements >> scenes >> preview >> choose_review() >> [review, auto_approved] >> videos >> download
