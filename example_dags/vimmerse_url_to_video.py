"""
### A product page becomes a video

`VimmerseUrlToVideoOperator` sends a web page's URL to `POST /story/url-2-video`: the service
reads the page (title, headings, text, images) and makes a narrated video from it.

1. **page_video** turns the page at `page_url` into a video and waits in the triggerer.
2. **download_video** streams the MP4 to `<output_base>/from_page/<story id>.mp4`.

A sample product page ships in `example_dags/data/page/`; a local sandbox started with
`--static-dir example_dags/data` serves it under `/static/page/index.html` (pass that URL as the
`page_url` param).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import DAG, Param

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import VimmerseUrlToVideoOperator

# [START howto_operator_vimmerse_url_to_video]
with DAG(
    dag_id="vimmerse_url_to_video",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    doc_md=__doc__,
    tags=["vimmerse", "example"],
    default_args={"deferrable": True},
    params={
        "page_url": Param(
            "https://example.com/products/harbor-light-lantern",
            type="string",
            description="The web page to turn into a video",
        ),
        "output_base": Param(
            conf.get("vimmerse", "output_base", fallback="file:///tmp/vimmerse-output"), type="string"
        ),
    },
) as dag:
    video = VimmerseUrlToVideoOperator(
        task_id="page_video",
        url="{{ params.page_url }}",
        scene_count=3,
        aspect_ratio="16:9",
        audio_option={"narrator": "Brian", "has_bg_music": True},
    )
    VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=video.output["story_id"],
        destination="{{ params.output_base }}/from_page/{{ ti.xcom_pull('page_video', key='story_id') }}.mp4",
    )
# [END howto_operator_vimmerse_url_to_video]
