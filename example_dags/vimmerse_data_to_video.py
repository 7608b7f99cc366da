"""
### A video per row of data, within a daily credit budget

Data-driven production: one product video per row of a catalogue.

1. **read_catalogue** reads the rows of a CSV (a small sample ships in `example_dags/data/`).
2. **plan_batch** is the **credit budget guard**: it prices each row's request with the service's
   published pricing (`estimate_credits`) and keeps only as many rows as what is left today of
   the daily budget `daily_budget` covers (shared with every DAG that names it, so a second run
   on the same day gets what the first left), before a single credit is spent; the rest are
   skipped. Each video task reserves its estimate in that budget before it sends its request and
   settles what the story used after (a task that no longer fits fails without sending), and
   carries its estimate as `max_credits`, so a request that would cost more is never sent.
3. **create_video** (dynamic task mapping over the planned rows, each turned into an idea by
   `video_request`) creates the videos; at most
   `max_active_tis_per_dagrun` run at once, so a big catalogue does not flood the API.
4. **download_video** (mapped) streams each MP4 to `<output_base>/catalogue/<run>/<sku>.mp4`.
5. **write_manifest** writes `manifest.json` and `manifest.csv`: every row with its story id,
   video path, estimated and used credits, or why it was skipped.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pendulum
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import DAG, ObjectStoragePath, Param, task

from airflow_provider_vimmerse.credits import VimmerseCreditBudget, estimate_credits
from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

CATALOGUE = str(Path(__file__).parent / "data" / "products.csv")
log = logging.getLogger(__name__)


def run_folder(params: dict, run_id: str) -> str:
    """This run's own output folder: runs never write over each other."""
    return f"{params['output_base']}/catalogue/{run_id.replace(':', '_').replace('+', '_')}"


#: What every video of the catalogue is made with; the estimate prices exactly this.
VIDEO_SETTINGS = {"scene_count": 2, "aspect_ratio": "1:1"}


def video_request(row: dict) -> dict:
    """One mapped create_video task's arguments, from one catalogue row, capped at its estimate."""
    request = {
        "idea": f"A cheerful promotion video for {row['name']}: {row['tagline']}.",
        "title": f"{row['name']} ({row['sku']})",
    }
    return {**request, "max_credits": estimate_credits("idea_to_video", **request, **VIDEO_SETTINGS)}


# [START howto_operator_vimmerse_data_to_video]
with DAG(
    dag_id="vimmerse_data_to_video",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True},
    params={
        "catalogue": Param(CATALOGUE, type="string", description="CSV with sku, name, category, tagline"),
        "daily_budget": Param(
            "vimmerse_catalogue", type="string", description="The daily credit budget (shared by every DAG naming it)"
        ),
        "daily_budget_credits": Param(1000, type="integer", minimum=0, description="That budget's credits per UTC day"),
        "output_base": Param(
            conf.get("vimmerse", "output_base", fallback="file:///tmp/vimmerse-output"), type="string"
        ),
    },
) as dag:

    @task
    def read_catalogue(params=None) -> list[dict]:
        with ObjectStoragePath(params["catalogue"]).open("r") as handle:
            return list(csv.DictReader(handle))

    @task
    def plan_batch(rows: list[dict], params=None) -> list[dict]:
        """The credit budget guard: the rows today's budget covers at their estimate, before a credit is spent."""
        left = VimmerseCreditBudget(params["daily_budget"], params["daily_budget_credits"]).remaining()
        planned, committed = [], 0
        for row in rows:
            estimate = video_request(row)["max_credits"]
            if estimate is None or committed + estimate > left:
                break
            planned.append(row)
            committed += estimate
        log.info("Daily budget %r: %d credits left today (UTC).", params["daily_budget"], left)
        log.info("It covers %d of %d rows (estimated %d credits).", len(planned), len(rows), committed)
        return planned

    rows = read_catalogue()
    planned = plan_batch(rows)
    videos = VimmerseIdeaToVideoOperator.partial(
        task_id="create_video",
        max_active_tis_per_dagrun=2,
        daily_budget="{{ params.daily_budget }}",
        daily_budget_credits="{{ params.daily_budget_credits }}",
        **VIDEO_SETTINGS,
    ).expand_kwargs(planned.map(video_request))

    @task
    def download_plan(summaries: list[dict], planned: list[dict], params=None, run_id=None) -> list[dict]:
        folder = run_folder(params, run_id)
        return [
            {"story_id": summary["story_id"], "destination": f"{folder}/{row['sku']}.mp4"}
            for summary, row in zip(summaries, planned)
        ]

    downloads = VimmerseDownloadVideoOperator.partial(task_id="download_video").expand_kwargs(
        download_plan(videos.output, planned)
    )

    @task
    def write_manifest(
        rows: list[dict], planned: list[dict], summaries: list[dict], files: list[dict], params=None, run_id=None
    ) -> str:
        """Every row of the catalogue: what became of it."""
        skipped = rows[len(planned) :]
        entries = []
        for row, summary, file in zip(planned, summaries, files):
            entries.append(
                {
                    **row,
                    "status": summary["status"],
                    "story_id": summary["story_id"],
                    "video": file["path"],
                    "sha256": file["sha256"],
                    "estimated_credits": summary["estimated_credits"],
                    "used_credits": summary["used_credits"],
                }
            )
        for row in skipped:
            entries.append(
                {
                    **row,
                    "status": "skipped: daily credit budget",
                    "story_id": "",
                    "video": "",
                    "sha256": "",
                    "estimated_credits": video_request(row)["max_credits"],
                    "used_credits": 0,
                }
            )
        folder = ObjectStoragePath(run_folder(params, run_id))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_text(json.dumps(entries, indent=2))
        with (folder / "manifest.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(entries[0]) if entries else ["sku"])
            writer.writeheader()
            writer.writerows(entries)
        spent = sum(int(e["used_credits"] or 0) for e in entries)
        log.info("%d videos, %d skipped, %d credits used.", len(planned), len(skipped), spent)
        return str(folder / "manifest.json")

    write_manifest(rows, planned, videos.output, downloads.output)
# [END howto_operator_vimmerse_data_to_video]
