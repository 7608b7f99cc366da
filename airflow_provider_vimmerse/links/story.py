"""Extra links shown on Vimmerse tasks in the Airflow UI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["VimmerseStoryLink", "VimmerseVideoLink"]


def _xcom(key: str, ti_key: TaskInstanceKey) -> str:
    # Imported here: XCom pulls in more of Airflow than DAG parsing should pay for.
    from airflow.providers.common.compat.sdk import XCom

    return XCom.get_value(key=key, ti_key=ti_key) or ""


class VimmerseVideoLink(BaseOperatorLink):
    """The finished story video (XCom ``video_url`` of the task)."""

    name = "Vimmerse Video"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _xcom("video_url", ti_key)


class VimmerseStoryLink(BaseOperatorLink):
    """The story's page, when the connection sets ``story_url_template`` (XCom ``story_url``)."""

    name = "Vimmerse Story"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return _xcom("story_url", ti_key)
