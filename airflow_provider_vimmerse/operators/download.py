"""Download a finished story video to a local path or any Airflow object storage URI."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator
from airflow.sdk import Asset, AssetAlias

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._storage import LOCAL_PROTOCOLS, STORAGE_SCHEMES_HINT, is_storage_scheme
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError, VimmerseWaitError
from airflow_provider_vimmerse.hooks._transport import DEFAULT_CONN_ID
from airflow_provider_vimmerse.links.story import VimmerseVideoLink
from airflow_provider_vimmerse.models import VimmerseStoryStatus

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

__all__ = ["VimmerseDownloadVideoOperator"]


def _destination_uri(destination: str) -> str:
    """The URI an Asset names for a destination: ``file://`` for local paths, the URI itself otherwise."""
    return Path(destination).absolute().as_uri() if "://" not in destination else destination


def _check_destination(destination: Any) -> None:
    """
    Refuse a destination that cannot work (empty, a NUL byte, a scheme no filesystem is registered
    for), before anything is paid for.

    :raises VimmerseInvalidParameterError: naming ``destination`` and what is allowed.
    """
    if not isinstance(destination, str) or not destination.strip() or "\0" in destination:
        raise VimmerseInvalidParameterError("destination", destination, "a file path or an object storage URI")
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", destination.strip())
    if match and not is_storage_scheme(match.group(1).lower()):
        raise VimmerseInvalidParameterError(
            "destination",
            destination,
            "a file path, or a URI whose scheme an installed provider registers as a filesystem "
            f"({STORAGE_SCHEMES_HINT})",
        )


def _storage_path(destination: Any) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    _check_destination(destination)
    try:
        return ObjectStoragePath(destination.strip())
    except Exception as err:
        raise VimmerseInvalidParameterError(
            "destination", destination, f"a file path or an object storage URI ({type(err).__name__}: {err})"
        ) from None


class VimmerseDownloadVideoOperator(BaseOperator):
    """
    Download a story's video to ``destination``.

    The download streams in chunks (constant memory), resumes with HTTP ``Range`` after a dropped
    connection, checks the length, and lands atomically: no partial file is ever visible at the
    destination. The API key is sent only to the API host, never to a video CDN.

    Unless ``outlets`` are given, the video is published as an Asset: ``Asset(destination)`` when
    the destination is a fixed absolute path or URI, otherwise one asset per task,
    ``Asset("<dag_id>.<task_id>")`` (URI ``vimmerse-video://<dag_id>/<task_id>``). Every event's
    ``extra`` names the file that run wrote (``path``, ``bytes``, ``sha256``, ``story_id``), so a
    downstream DAG scheduled on the asset reads it from ``triggering_asset_events``. The task's
    "Vimmerse Video" link opens the video it downloaded.

    :param destination: local path or object storage URI (``file://``, ``s3://``, ...), templated.
    :param story_id: the story whose ``video_url`` to fetch (templated); the story must be ``success``.
    :param video_url: a video URL to fetch instead of looking the story up (templated).
    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param max_resumes: how many times a dropped download is resumed.
    :return: ``{"path", "bytes", "sha256", "story_id"}``.
    """

    template_fields: Sequence[str] = ("destination", "story_id", "video_url", "vimmerse_conn_id")
    operator_extra_links = (VimmerseVideoLink(),)
    ui_color = "#f0e6ff"

    def __init__(
        self,
        *,
        destination: str,
        story_id: str | None = None,
        video_url: str | None = None,
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        max_resumes: int = 3,
        **kwargs: Any,
    ) -> None:
        if isinstance(destination, str) and "{{" not in destination:
            _check_destination(destination)  # a literal destination is checked when the DAG is parsed
        default_outlets = "outlets" not in kwargs
        super().__init__(**kwargs)
        self.destination = destination
        self.story_id = story_id
        self.video_url = video_url
        self.vimmerse_conn_id = vimmerse_conn_id
        self.max_resumes = max_resumes
        if default_outlets:
            self.outlets = self._default_outlets()

    def _default_outlets(self) -> list[Asset]:
        """The file itself when its path is fixed; else one asset per task, the file named in each event."""
        destination = self.destination
        fixed = isinstance(destination, str) and "{{" not in destination
        if fixed and ("://" in destination or Path(destination).is_absolute()):
            return [Asset(_destination_uri(destination))]
        if self.has_dag():
            return [Asset(name=f"{self.dag_id}.{self.task_id}", uri=f"vimmerse-video://{self.dag_id}/{self.task_id}")]
        return []

    @cached_property
    def hook(self) -> VimmerseHook:
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        return VimmerseHook(self.vimmerse_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        target = _storage_path(self.destination)
        context["ti"].xcom_push(key="video_url", value="")  # the link's key exists even if this try fails
        story_id = None if self.story_id in (None, "") else v.story_id(self.story_id)
        if self.video_url:
            url = v.http_url("video_url", self.video_url)
        elif story_id:
            story = self.hook.get_story(story_id)
            if story.status is not VimmerseStoryStatus.SUCCESS or not story.video_url:
                raise VimmerseWaitError(
                    f"Story {story_id} has no video to download yet (status {story.status.value}).", story_id=story_id
                )
            url = story.video_url
        else:
            raise VimmerseInvalidParameterError("story_id", None, "a story id, or video_url")

        context["ti"].xcom_push(key="video_url", value=url)
        if target.protocol in LOCAL_PROTOCOLS:
            result = asdict(self.hook.download_video(url, target.path, max_resumes=self.max_resumes))
        else:
            result = self._download_to_object_storage(url, target)
        self.log.info("Downloaded %s bytes to %s (sha256 %s).", result["bytes"], result["path"], result["sha256"])
        result = {**result, "story_id": story_id}
        self._downloaded = (url, result)
        self._record_asset(context, result)
        return result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the story's video in, the destination out (``file``, ``s3://bucket``, ...)."""
        from airflow_provider_vimmerse._lineage import download_lineage

        url, result = self._downloaded
        return download_lineage(
            api_base_url=self.hook.settings.base_url,
            story_id=result["story_id"],
            video_url=url,
            destination=result["path"],
        )

    def _download_to_object_storage(self, url: str, target: ObjectStoragePath) -> dict[str, Any]:
        # Object stores expose an object only once its upload completes, so uploading a finished
        # local file straight to the destination keeps the no-partial-file promise.
        with tempfile.TemporaryDirectory(prefix="vimmerse-") as scratch:
            local = self.hook.download_video(
                url, str(Path(scratch) / f"{uuid.uuid4().hex}.mp4"), max_resumes=self.max_resumes
            )
            with open(local.path, "rb") as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, length=1024 * 1024)
        return {"path": str(target), "bytes": local.bytes, "sha256": local.sha256}

    def _record_asset(self, context: Context, result: dict[str, Any]) -> None:
        """Each asset event says which file this run wrote (``extra``: path, bytes, sha256, story_id)."""
        for outlet in self.outlets:
            if isinstance(outlet, AssetAlias):
                context["outlet_events"][outlet].add(Asset(_destination_uri(result["path"])), extra=result)
            elif isinstance(outlet, Asset):
                context["outlet_events"][outlet].extra.update(result)
