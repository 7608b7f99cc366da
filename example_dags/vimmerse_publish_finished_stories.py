"""
### Publish every finished story, pushed by Vimmerse webhooks (event-driven scheduling)

Scheduled by an asset whose watcher is `VimmerseStoryEventTrigger`: a run starts whenever a story
finishes whose `webhook_url` is this stream's URL, including stories created outside Airflow
(get the URL with `VimmerseHook().events_webhook_url("published")`). Each webhook is confirmed
with one `GET /story/{id}` in the triggerer before the run is queued, so a forged call starts
nothing.

1. **finished_stories** reads the triggering asset events: the story ids that finished with a video.
2. **download_video** (mapped) streams each video to `<output_base>/published/<story id>/story.mp4`.
3. **write_manifest** writes `manifest.json` next to each video: story, title, credits, file, SHA-256.

Needs the triggerers' webhook listener: `[vimmerse] webhook_bind` and `webhook_public_url` (see
the Webhooks page of the docs). Without them the watcher logs that and schedules nothing.
"""

from __future__ import annotations

import json

import pendulum
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import DAG, Asset, AssetWatcher, ObjectStoragePath, Param, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.triggers.story import VimmerseStoryEventTrigger

# [START howto_trigger_vimmerse_story_events]
finished_story = Asset(
    "vimmerse_finished_stories",
    watchers=[AssetWatcher(name="vimmerse_published", trigger=VimmerseStoryEventTrigger(name="published"))],
)

with DAG(
    dag_id="vimmerse_publish_finished_stories",
    schedule=[finished_story],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    params={
        "output_base": Param(conf.get("vimmerse", "output_base", fallback="file:///tmp/vimmerse-output"), type="string")
    },
) as dag:

    @task
    def finished_stories(triggering_asset_events=None) -> list[dict]:
        """The stories whose webhooks queued this run (several may share one run)."""
        stories = {}
        for events in (triggering_asset_events or {}).values():
            for asset_event in events:
                story = (asset_event.extra or {}).get("payload") or {}
                if story.get("status") == "success" and story.get("video_url"):
                    stories[story["story_id"]] = story
        return list(stories.values())

    @task
    def download_plan(stories: list[dict], params=None) -> list[dict]:
        folder = f"{params['output_base']}/published"
        return [{"story_id": s["story_id"], "destination": f"{folder}/{s['story_id']}/story.mp4"} for s in stories]

    stories = finished_stories()
    files = VimmerseDownloadVideoOperator.partial(task_id="download_video").expand_kwargs(download_plan(stories))

    @task
    def write_manifest(stories: list[dict], files: list[dict]) -> list[str]:
        written = []
        by_story = {file["story_id"]: file for file in files}
        for story in stories:
            file = by_story[story["story_id"]]
            manifest = ObjectStoragePath(file["path"]).parent / "manifest.json"
            manifest.write_text(json.dumps({**story, "path": file["path"], "sha256": file["sha256"]}, indent=2))
            written.append(str(manifest))
        return written

    write_manifest(stories, files.output)
# [END howto_trigger_vimmerse_story_events]
