"""
### Your images become a video, in one call

`VimmerseImagesToVideoOperator` sends image URLs to `POST /story/images-2-video`: each image
becomes a scene, animated and narrated from the `idea`.

1. **images_video** makes the video from the images published at `image_base_url` and waits in
   the triggerer.
2. **download_video** streams the MP4 to `<output_base>/from_image_urls/<story id>.mp4`.

The sample images ship in `example_dags/data/images/`; a local sandbox started with
`--static-dir example_dags/data` serves them under `/static/images/` (pass that URL as the
`image_base_url` param).
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import conf
from airflow.sdk import DAG, Param

from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator
from airflow_provider_vimmerse.operators.story import VimmerseImagesToVideoOperator

# [START howto_operator_vimmerse_images_to_video]
with DAG(
    dag_id="vimmerse_images_to_video",
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
    video = VimmerseImagesToVideoOperator(
        task_id="images_video",
        image_urls=[f"{{{{ params.image_base_url }}}}/{name}.png" for name in ("harbor", "market", "lighthouse")],
        idea="Dawn at the harbor. Noon at the market. Night at the lighthouse.",
        title="A day at the harbor",
    )
    VimmerseDownloadVideoOperator(
        task_id="download_video",
        story_id=video.output["story_id"],
        destination="{{ params.output_base }}/from_image_urls/{{ ti.xcom_pull('images_video', key='story_id') }}.mp4",
    )
# [END howto_operator_vimmerse_images_to_video]
