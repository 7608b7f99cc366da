"""
### A story from your own images and music

Bring your own pictures: every scene and the main character carry an `image_url`, and the
storyboard's music carries a `music_url`, so the service animates and narrates your images
instead of generating new ones.

1. **story** creates the story (`POST /story`).
2. **build_storyboard** writes a storyboard whose scenes point at your images
   (the `image_base_url` param: where they are published; the sample images ship in
   `example_dags/data/images/`, and a local sandbox serves that folder under `/static/`).
3. **scenes**, **videos** and **download_video** narrate, animate and fetch the result.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import DAG, Param, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import (
    VimmerseCreateScenesOperator,
    VimmerseCreateStoryboardOperator,
    VimmerseCreateVideosOperator,
)

SCENES = [
    ("harbor", "Dawn at the harbor", "At dawn, the captain checks the boats in the quiet harbor."),
    ("market", "The fish market", "By noon, the market is loud, bright and full of stories."),
    ("lighthouse", "The lighthouse", "At night, the lighthouse guides everyone safely home."),
]

# [START howto_operator_vimmerse_story_from_images]
with DAG(
    dag_id="vimmerse_story_from_images",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True},
    params={
        "image_base_url": Param(
            "https://example.com/vimmerse-images", type="string", description="Where harbor.png etc. are published"
        ),
        "output_base": Param(
            conf.get("vimmerse", "output_base", fallback="file:///tmp/vimmerse-output"), type="string"
        ),
    },
) as dag:
    story = VimmerseCreateStoryboardOperator(task_id="story", idea="A day in a small harbor town", scene_count=3)

    @task
    def build_storyboard(params=None) -> dict:
        base = params["image_base_url"].rstrip("/")
        return {
            "characters": [
                {"name": "Captain", "description": "the harbor's oldest sailor", "image_url": f"{base}/captain.png"}
            ],
            "environments": [],
            "objects": [],
            "scenes": [
                {
                    "name": name,
                    "image_url": f"{base}/{image}.png",
                    "image_description": f"**Captain** at the {image}",
                    "video_description": f"camera motion:{motion}, camera angle:eye level",
                    "narrator": narration,
                }
                for (image, name, narration), motion in zip(SCENES, ("pan right", "zoom in", "tilt up"))
            ],
            "music": {"description": "a sea shanty", "music_url": f"{base.rsplit('/', 1)[0]}/music.wav"},
        }

    story_id = story.output["story_id"]
    scenes = VimmerseCreateScenesOperator(task_id="scenes", story_id=story_id, storyboard=build_storyboard())
    videos = VimmerseCreateVideosOperator(task_id="videos", story_id=story_id, title="A day at the harbor")
    download = VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=story_id,
        destination="{{ params.output_base }}/from_images/{{ ti.xcom_pull('story', key='story_id') }}.mp4",
    )
    story >> scenes >> videos >> download
# [END howto_operator_vimmerse_story_from_images]
