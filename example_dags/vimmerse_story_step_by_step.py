"""
### A story step by step, with a preview before paying for animation

The advanced flow of the Story API, with people in the loop where it matters:

1. **storyboard**: `POST /story` writes a storyboard from the idea.
2. **edit_storyboard**: plain Python edits it: renames the hero and rewrites the first narration
   line (your brand voice, a legal review, ...).
3. **elements** and **scenes**: character images, music, scene images and narration.
4. **storyboard_preview**: a PNG contact sheet of the scene images with their names and
   narration, kept next to the video.
5. **review**: an optional human approval (Airflow's HITL `ApprovalOperator`), switched on with
   the `require_approval` param; off by default so the DAG runs unattended. The prompt shows
   each scene's image and narration and links the story, so the reviewer sees what the expensive
   animation step will be paid for.
6. **videos** and **download_video**: animation, the story video, and the MP4 on disk.
"""

from __future__ import annotations

import json
import re

import pendulum
from airflow.providers.common.compat.sdk import conf
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

# [START howto_operator_vimmerse_story_step_by_step]
with DAG(
    dag_id="vimmerse_story_step_by_step",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True},
    params={
        "idea": Param("A bunny walks through the forest and finds honey flowing from a tree", type="string"),
        "hero_name": Param("Clover", type="string"),
        "require_approval": Param(False, type="boolean", description="Wait for a human to approve the preview"),
        "output_base": Param(
            conf.get("vimmerse", "output_base", fallback="file:///tmp/vimmerse-output"), type="string"
        ),
    },
) as dag:
    storyboard = VimmerseCreateStoryboardOperator(
        task_id="storyboard", idea="{{ params.idea }}", scene_count=3, audio_option={"narrator": "Lily"}
    )
    story_id = storyboard.output["story_id"]

    @task
    def edit_storyboard(result: dict, params=None) -> dict:
        """Rename the hero everywhere (titles, captions, narration, descriptions) and open with our own line."""
        board = result["storyboard"]
        old = re.sub(r"^(the|a|an) ", "", board["characters"][0]["name"], flags=re.IGNORECASE)
        # "the Bunny", "The bunny" and "Bunny" all become the new name.
        name = re.compile(rf"\b(?:(?:the|a|an) )?{re.escape(old)}\b", re.IGNORECASE)
        board = json.loads(name.sub(params["hero_name"], json.dumps(board)))
        board["scenes"][0]["narrator"] = f"Meet {params['hero_name']}, who never says no to an adventure."
        return board

    elements = VimmerseCreateElementsOperator(
        task_id="elements",
        story_id=story_id,
        storyboard=edit_storyboard(storyboard.output),
        aspect_ratio="16:9",
    )
    scenes = VimmerseCreateScenesOperator(task_id="scenes", story_id=story_id)

    @task
    def storyboard_preview(story_id: str, params=None) -> str:
        """The contact sheet a reviewer looks at before animation is paid for."""
        from storyboard_preview import storyboard_preview as render

        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        target = ObjectStoragePath(params["output_base"]) / "step_by_step" / story_id / "preview.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(VimmerseHook(), story_id))
        return str(target)

    preview = storyboard_preview(story_id)

    @task
    def review_notes(story_id: str) -> str:
        """The approval prompt: each scene's image and narration, and the story's link."""
        from storyboard_preview import review_markdown

        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        return review_markdown(VimmerseHook(), story_id)

    @task.branch
    def choose_review(params=None) -> str:
        return "review" if params["require_approval"] else "auto_approved"

    review = ApprovalOperator(
        task_id="review",
        subject="Approve this storyboard for animation?",
        body="{{ ti.xcom_pull('review_notes') }}",
    )
    auto_approved = EmptyOperator(task_id="auto_approved")
    videos = VimmerseCreateVideosOperator(
        task_id="videos", story_id=story_id, trigger_rule="none_failed_min_one_success"
    )
    download = VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=story_id,
        destination="{{ params.output_base }}/step_by_step/{{ ti.xcom_pull('storyboard', key='story_id') }}/story.mp4",
    )
    notes = review_notes(story_id)
    elements >> scenes >> [preview, notes] >> choose_review() >> [review, auto_approved] >> videos >> download
# [END howto_operator_vimmerse_story_step_by_step]
