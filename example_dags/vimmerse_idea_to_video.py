"""
### Daily story video from an idea

Every day, turn an idea into a narrated story video and keep it.

1. **create_video** sends the idea (a template: the run's date and the `topic` param) to
   `POST /story/idea-2-video` and waits in the triggerer (`deferrable=True`), without holding a
   worker slot. A retry reattaches to the story it already paid for.
2. **storyboard_preview** draws a contact sheet of the scene images (`preview.png`).
3. **download_video** streams the MP4 to `<output_base>/<ds>/story.mp4`, any `ObjectStoragePath`
   (a local folder by default, `s3://...` works the same), and publishes it as an Asset so
   downstream DAGs can be scheduled on new videos.

Settings: the `vimmerse_default` connection (your API key, or a local sandbox), the DAG params,
and `VIMMERSE_OUTPUT_BASE` / `VIMMERSE_POLL_INTERVAL` in the environment.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, ObjectStoragePath, Param, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

OUTPUT_BASE = os.environ.get("VIMMERSE_OUTPUT_BASE", "file:///tmp/vimmerse-output")
POLL_INTERVAL = float(os.environ.get("VIMMERSE_POLL_INTERVAL", "30"))

with DAG(
    dag_id="vimmerse_idea_to_video",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    params={
        "topic": Param("a lighthouse keeper who befriends a curious whale", type="string"),
        "scene_count": Param(3, type="integer", minimum=1, maximum=10),
        "output_base": Param(OUTPUT_BASE, type="string", description="Where videos land (any ObjectStoragePath)"),
    },
) as dag:
    video = VimmerseIdeaToVideoOperator(
        task_id="create_video",
        idea="A short story for {{ ds }}: {{ params.topic }}.",
        title="Story of the day, {{ ds }}",
        scene_count="{{ params.scene_count }}",
        aspect_ratio="16:9",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
    )

    @task
    def storyboard_preview(story_id: str, ds=None, params=None) -> str:
        """Write a PNG contact sheet of the scene images next to the video."""
        from storyboard_preview import storyboard_preview as render

        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        target = ObjectStoragePath(params["output_base"]) / ds / "preview.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(VimmerseHook(), story_id))
        return str(target)

    storyboard_preview(video.output["story_id"])
    VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=video.output["story_id"],
        destination="{{ params.output_base }}/{{ ds }}/story.mp4",
    )
