"""
### A video per row of data, within a credit budget

Data-driven production: one product video per row of a catalogue.

1. **read_catalogue** reads the rows of a CSV (a small sample ships in `example_dags/data/`).
2. **plan_batch** builds one idea per row and applies the **credit budget guard**: it only
   schedules as many stories as `credit_budget` allows at `credits_per_story` each, and marks the
   rest as skipped, before a single credit is spent.
3. **create_video** (dynamic task mapping, one task per planned row) creates the videos; at most
   `max_active_tis_per_dagrun` run at once, so a big catalogue does not flood the API.
4. **download_video** (mapped) streams each MP4 to `<output_base>/catalogue/<run>/<sku>.mp4`.
5. **write_manifest** writes `manifest.json` and `manifest.csv`: every row with its story id,
   video path, credits used, or why it was skipped.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pendulum
from airflow.sdk import DAG, ObjectStoragePath, Param, task

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

OUTPUT_BASE = os.environ.get("VIMMERSE_OUTPUT_BASE", "file:///tmp/vimmerse-output")
POLL_INTERVAL = float(os.environ.get("VIMMERSE_POLL_INTERVAL", "30"))
CATALOGUE = str(Path(__file__).parent / "data" / "products.csv")

with DAG(
    dag_id="vimmerse_data_to_video",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    params={
        "catalogue": Param(CATALOGUE, type="string", description="CSV with sku, name, category, tagline"),
        "credit_budget": Param(100, type="integer", minimum=0, description="Most credits this run may spend"),
        "credits_per_story": Param(9, type="integer", minimum=1, description="Expected cost of one video"),
        "output_base": Param(OUTPUT_BASE, type="string"),
    },
) as dag:

    @task
    def read_catalogue(params=None) -> list[dict]:
        with ObjectStoragePath(params["catalogue"]).open("r") as handle:
            return list(csv.DictReader(handle))

    @task
    def plan_batch(rows: list[dict], params=None) -> dict:
        """One idea per row, and the credit budget guard: stop before the budget would be exceeded."""
        affordable = params["credit_budget"] // params["credits_per_story"]
        planned, skipped = rows[:affordable], rows[affordable:]
        if skipped:
            print(
                f"Credit budget {params['credit_budget']} covers {affordable} of {len(rows)} rows; "
                f"skipping {len(skipped)}."
            )
        return {
            "videos": [
                {
                    "idea": f"A cheerful promotion video for {row['name']}: {row['tagline']}.",
                    "title": f"{row['name']} ({row['sku']})",
                }
                for row in planned
            ],
            "planned": planned,
            "skipped": skipped,
        }

    plan = plan_batch(read_catalogue())

    @task
    def video_requests(plan: dict) -> list[dict]:
        """The mapped task's arguments: one dict per planned video."""
        return plan["videos"]

    videos = VimmerseIdeaToVideoOperator.partial(
        task_id="create_video",
        scene_count=2,
        aspect_ratio="1:1",
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        max_active_tis_per_dagrun=2,
    ).expand_kwargs(video_requests(plan))

    @task
    def download_plan(summaries: list[dict], plan: dict, params=None, run_id=None) -> list[dict]:
        base = f"{params['output_base']}/catalogue/{run_id.replace(':', '_').replace('+', '_')}"
        return [
            {"story_id": summary["story_id"], "destination": f"{base}/{row['sku']}.mp4"}
            for summary, row in zip(summaries, plan["planned"])
        ]

    downloads = VimmerseDownloadVideoOperator.partial(task_id="download_video").expand_kwargs(
        download_plan(videos.output, plan)
    )

    @task
    def write_manifest(plan: dict, summaries: list[dict], files: list[dict], params=None, run_id=None) -> str:
        """Every row of the catalogue: what became of it."""
        import json

        entries = []
        for row, summary, file in zip(plan["planned"], summaries, files):
            entries.append(
                {
                    **row,
                    "status": summary["status"],
                    "story_id": summary["story_id"],
                    "video": file["path"],
                    "sha256": file["sha256"],
                    "used_credits": summary["used_credits"],
                }
            )
        for row in plan["skipped"]:
            entries.append(
                {
                    **row,
                    "status": "skipped: credit budget",
                    "story_id": "",
                    "video": "",
                    "sha256": "",
                    "used_credits": 0,
                }
            )
        folder = ObjectStoragePath(params["output_base"]) / "catalogue" / run_id.replace(":", "_").replace("+", "_")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_text(json.dumps(entries, indent=2))
        with (folder / "manifest.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(entries[0]) if entries else ["sku"])
            writer.writeheader()
            writer.writerows(entries)
        spent = sum(int(e["used_credits"] or 0) for e in entries)
        print(f"{len(plan['planned'])} videos, {len(plan['skipped'])} skipped, {spent} credits used.")
        return str(folder / "manifest.json")

    write_manifest(plan, videos.output, downloads.output)
