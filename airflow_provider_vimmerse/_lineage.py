"""
OpenLineage for story and download tasks (used only when apache-airflow-providers-openlineage is
installed: the operators import this module from their ``get_openlineage_facets_on_*`` methods).

A story is a dataset in the ``vimmerse://<api host>`` namespace, named ``story/<id>``, carrying a
``vimmerse_story`` facet (id, status, scene count, credits used, video URL). What a story was made
from is its input when that is a dataset (image URLs, the page of url-to-video, videos and audio
to compose, uploaded files); the idea text is a run facet. A download reads the story and writes
its destination (``file``, ``s3://bucket``, any object store), so lineage continues into storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.openlineage.facet import Dataset, DatasetFacet, RunFacet
from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define

if TYPE_CHECKING:
    from airflow_provider_vimmerse.models import VimmerseStory

_SCHEMA = "https://github.com/vimmerse/airflow-provider-vimmerse/blob/main/docs/openlineage.md"
#: Arguments whose values are the URLs (or files) a story is made from.
SOURCE_ARGUMENTS = ("url", "image_urls", "image_files", "concat_video_urls", "audio_urls")


@define
class VimmerseStoryDatasetFacet(DatasetFacet):
    """The story behind a ``story/<id>`` dataset, as the service last reported it."""

    story_id: str
    status: str
    scene_count: int
    used_credits: int | None = None
    video_url: str = ""
    estimated_credits: int | None = None

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA}#vimmersestorydatasetfacet"


@define
class VimmerseRequestRunFacet(RunFacet):
    """What the run asked for: the endpoint and, when there is one, the idea text (not a dataset)."""

    endpoint: str
    idea: str = ""

    @staticmethod
    def _get_schema() -> str:
        return f"{_SCHEMA}#vimmerserequestrunfacet"


def _host(parts: Any) -> str:
    """``host[:port]`` of a split URL, without the credentials a URL may carry (``user:pass@``)."""
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def without_secrets(url: str) -> str:
    """``url`` without userinfo, query string or fragment (signed URLs carry their signature there)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{_host(parts)}{parts.path}" if parts.scheme else parts.path


def story_namespace(api_base_url: str) -> str:
    """``vimmerse://<api host[:port]>``: where a story lives."""
    return f"vimmerse://{_host(urlsplit(api_base_url))}"


def story_dataset(
    api_base_url: str, story_id: str, story: VimmerseStory | None = None, estimated_credits: int | None = None
) -> Dataset:
    """The story as a dataset, with its ``vimmerse_story`` facet (state and bill) when its state is known."""
    facets: dict[str, Any] = {}
    if story is not None:
        facets["vimmerse_story"] = VimmerseStoryDatasetFacet(
            story_id=story.id,
            status=story.status.value,
            scene_count=len(story.scenes or (story.storyboard or {}).get("scenes") or []),
            used_credits=story.used_credits,
            video_url=without_secrets(story.video_url) if story.video_url else "",
            estimated_credits=estimated_credits,
        )
    return Dataset(namespace=story_namespace(api_base_url), name=f"story/{story_id}", facets=facets)


def location_dataset(location: Any) -> Dataset:
    """
    A URL or a storage location as a dataset, by the OpenLineage naming conventions:
    ``https://host`` + path, ``s3://bucket`` + key, ``file`` + absolute path.
    """
    text = str(location)
    parts = urlsplit(text)
    if parts.scheme in ("", "file", "local"):
        return Dataset(namespace="file", name=str(Path(parts.path if parts.scheme else text).absolute()))
    if parts.scheme in ("http", "https"):
        return Dataset(namespace=f"{parts.scheme}://{_host(parts)}", name=parts.path or "/")
    return Dataset(namespace=f"{parts.scheme}://{_host(parts)}", name=parts.path.lstrip("/"))


def _sources(arguments: dict[str, Any]) -> Iterable[Any]:
    for name in SOURCE_ARGUMENTS:
        value = arguments.get(name)
        if isinstance(value, str) and value:
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (item for item in value if item)


def story_lineage(operator: Any, story: VimmerseStory | None) -> OperatorLineage:
    """
    What a story step (``operator``) read and wrote; ``story`` is its final state, when it finished.
    A step on an existing story reads that story (the previous step's output) and writes it again,
    so the steps chain in the lineage graph.
    """
    endpoint = operator.endpoint
    api_base_url = operator.hook.settings.base_url
    arguments = operator.api_arguments()
    story_id = story.id if story else getattr(operator, "_story_id", None) or getattr(operator, "story_id", None)
    inputs = [location_dataset(source) for source in _sources(arguments)]
    outputs = []
    if story_id:
        if endpoint.on_story:
            inputs.append(story_dataset(api_base_url, story_id))
        outputs.append(story_dataset(api_base_url, story_id, story, getattr(operator, "_estimate", None)))
    idea = arguments.get("idea")
    run_facets = {
        "vimmerse_request": VimmerseRequestRunFacet(endpoint=endpoint.name, idea=idea if isinstance(idea, str) else "")
    }
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


def download_lineage(*, api_base_url: str, story_id: str | None, video_url: str, destination: str) -> OperatorLineage:
    """A download reads the story's video (the story dataset, or the bare URL) and writes ``destination``."""
    source = story_dataset(api_base_url, story_id) if story_id else location_dataset(video_url)
    return OperatorLineage(inputs=[source], outputs=[location_dataset(destination)])
