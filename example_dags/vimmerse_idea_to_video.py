"""
### Daily story video from an idea

Every day, turn an idea into a narrated story video and keep it.

1. **create_video** sends the idea (the `topic` param) to `POST /story/idea-2-video` and waits in
   the triggerer (`deferrable=True`), without holding a worker slot. A retry reattaches to the
   story it already paid for.
2. **storyboard_preview** draws a contact sheet of the scene images (`preview.png`).
3. **download_video** streams the MP4 to `<output_base>/idea_to_video/<story id>/story.mp4` (any
   `ObjectStoragePath`: a local folder by default, `s3://...` works the same) and publishes it as
   an Asset, so downstream DAGs can be scheduled on new videos.

Every run writes to its own story's folder: a manual run on the same day as the scheduled one,
or a run without a logical date (REST API, asset-triggered), never overwrites another run's video.

**Cost:** unpausing this DAG starts a run straight away (the latest daily interval), and every
run creates a story that uses credits. Try it against the local sandbox first (`make demo`).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import DAG, ObjectStoragePath, Param, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

# [START howto_operator_vimmerse_idea_to_video]
with DAG(
    dag_id="vimmerse_idea_to_video",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True},
    params={
        "topic": Param("a lighthouse keeper who befriends a curious whale", type="string"),
        "scene_count": Param(3, type="integer", minimum=1, maximum=10),
        "output_base": Param(
            conf.get("vimmerse", "output_base", fallback="file:///tmp/vimmerse-output"),
            type="string",
            description="Where videos land (any ObjectStoragePath)",
        ),
    },
) as dag:
    video = VimmerseIdeaToVideoOperator(
        task_id="create_video",
        idea="A short story: {{ params.topic }}.",
        # run_after exists for every run; logical_date (and so ds) is None for some.
        title="Story of the day, {{ dag_run.run_after | ds }}",
        scene_count="{{ params.scene_count }}",
        aspect_ratio="16:9",
    )
    story_folder = "{{ params.output_base }}/idea_to_video/{{ ti.xcom_pull('create_video', key='story_id') }}"

    @task
    def storyboard_preview(story_id: str, params=None) -> str:
        """Write a PNG contact sheet of the scene images next to the video."""
        from storyboard_preview import storyboard_preview as render

        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        target = ObjectStoragePath(params["output_base"]) / "idea_to_video" / story_id / "preview.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(VimmerseHook(), story_id))
        return str(target)

    storyboard_preview(video.output["story_id"])
    VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=video.output["story_id"],
        destination=f"{story_folder}/story.mp4",
    )
# [END howto_operator_vimmerse_idea_to_video]
