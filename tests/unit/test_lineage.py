"""OpenLineage datasets and facets for story and download tasks, and the vimmerse:// asset scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytest.importorskip("airflow.providers.openlineage", reason="the [openlineage] extra is not installed")

from airflow_provider_vimmerse import assets
from airflow_provider_vimmerse._lineage import download_lineage, location_dataset, story_lineage
from airflow_provider_vimmerse.models import VimmerseStory

API = "https://api.vimmerse.net"


def _names(datasets) -> list[tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


def _story_lineage(*, api_base_url, endpoint, arguments, story_id, story, on_story, estimate=None):
    """What a story operator reports: the operator stands in as what the lineage reads from it."""
    from types import SimpleNamespace

    from airflow_provider_vimmerse._endpoints import ENDPOINTS

    operator = SimpleNamespace(
        endpoint=ENDPOINTS[endpoint],
        hook=SimpleNamespace(settings=SimpleNamespace(base_url=api_base_url)),
        api_arguments=lambda: arguments,
        _story_id=story_id,
        _estimate=estimate,
    )
    assert operator.endpoint.on_story is on_story
    return story_lineage(operator, story)


def test_a_story_is_the_output_with_its_state_and_the_idea_is_a_run_facet():
    story = VimmerseStory.from_api(
        {
            "id": "s1",
            "status": "success",
            "used_credits": 9,
            "video_url": "https://cdn.example.com/s1.mp4",
            "scenes": [{}, {}, {}],
        }
    )
    lineage = _story_lineage(
        api_base_url=API,
        endpoint="idea_to_video",
        arguments={"idea": "A fox opens a bakery", "webhook_url": "https://h/vimmerse/webhook/a/secret"},
        story_id="s1",
        story=story,
        on_story=False,
        estimate=10,
    )
    assert lineage.inputs == []
    (output,) = lineage.outputs
    assert (output.namespace, output.name) == ("vimmerse://api.vimmerse.net", "story/s1")
    facet = output.facets["vimmerse_story"]
    assert (facet.story_id, facet.status, facet.scene_count, facet.used_credits, facet.video_url) == (
        "s1",
        "success",
        3,
        9,
        "https://cdn.example.com/s1.mp4",
    )
    assert facet.estimated_credits == 10  # the bill: the estimate next to what was used
    assert lineage.run_facets["vimmerse_request"].idea == "A fox opens a bakery"
    assert "secret" not in repr(lineage)  # the webhook URL is not lineage


def test_what_a_story_is_made_from_are_its_inputs():
    lineage = _story_lineage(
        api_base_url="http://127.0.0.1:8765",
        endpoint="images_to_video",
        arguments={"image_urls": ["https://img.example.com/a.png", "https://img.example.com/b.png"], "idea": None},
        story_id="s2",
        story=None,
        on_story=False,
    )
    assert _names(lineage.inputs) == [("https://img.example.com", "/a.png"), ("https://img.example.com", "/b.png")]
    assert _names(lineage.outputs) == [("vimmerse://127.0.0.1:8765", "story/s2")]


def test_a_step_on_a_story_reads_and_writes_that_story():
    lineage = _story_lineage(
        api_base_url=API, endpoint="create_scenes", arguments={}, story_id="s3", story=None, on_story=True
    )
    assert _names(lineage.inputs) == _names(lineage.outputs) == [("vimmerse://api.vimmerse.net", "story/s3")]


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        ("/data/v.mp4", ("file", "/data/v.mp4")),
        ("file:///data/v.mp4", ("file", "/data/v.mp4")),
        ("s3://bucket/videos/v.mp4", ("s3://bucket", "videos/v.mp4")),
    ],
)
def test_a_download_reads_the_story_and_writes_its_destination(destination, expected):
    lineage = download_lineage(api_base_url=API, story_id="s4", video_url="https://cdn/x.mp4", destination=destination)
    assert _names(lineage.inputs) == [("vimmerse://api.vimmerse.net", "story/s4")]
    assert _names(lineage.outputs) == [expected]


def test_a_download_by_url_reads_the_url():
    lineage = download_lineage(
        api_base_url=API, story_id=None, video_url="https://cdn.example.com/v.mp4", destination="/d/v.mp4"
    )
    assert _names(lineage.inputs) == [("https://cdn.example.com", "/v.mp4")]


def test_the_vimmerse_asset_scheme_maps_to_the_story_dataset():
    asset = assets.create_asset(story_id="s5")
    assert asset.uri == "vimmerse://api.vimmerse.net/story/s5"
    dataset = assets.convert_asset_to_openlineage(asset, None)
    assert (dataset.namespace, dataset.name) == ("vimmerse://api.vimmerse.net", "story/s5")
    assert assets.sanitize_uri(urlsplit(asset.uri)) == urlsplit(asset.uri)
    for bad in ("vimmerse:///story/s5", "vimmerse://api.vimmerse.net/"):
        with pytest.raises(ValueError):
            assets.sanitize_uri(urlsplit(bad))


def test_location_datasets_follow_the_naming_conventions():
    assert (
        location_dataset("https://shop.example.com/p/1").namespace,
        location_dataset("https://shop.example.com/p/1").name,
    ) == (
        "https://shop.example.com",
        "/p/1",
    )


def test_credentials_and_query_strings_never_reach_lineage():
    secret_api = "https://user:s3cret@api.example.com:8443/?token=abc"
    signed = "https://cdn.example.com/v/story.mp4?X-Amz-Signature=abc123&X-Amz-Credential=AKIA"
    story = VimmerseStory.from_api({"id": "s1", "status": "success", "video_url": signed})
    lineage = _story_lineage(
        api_base_url=secret_api,
        endpoint="url_to_video",
        arguments={"url": "https://bob:pw@shop.example.com/p/1?session=xyz"},
        story_id="s1",
        story=story,
        on_story=False,
    )
    (page,) = lineage.inputs
    (written,) = lineage.outputs
    assert (page.namespace, page.name) == ("https://shop.example.com", "/p/1")
    assert written.namespace == "vimmerse://api.example.com:8443"
    assert written.facets["vimmerse_story"].video_url == "https://cdn.example.com/v/story.mp4"
    everything = repr(lineage)
    for secret in ("s3cret", "bob", "pw@", "session=xyz", "abc123", "AKIA", "token=abc"):
        assert secret not in everything


def test_airflow_knows_the_vimmerse_scheme_from_the_provider_info():
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk import Asset

    manager = ProvidersManager()
    assert manager.asset_to_openlineage_converters["vimmerse"] is assets.convert_asset_to_openlineage
    assert Asset("vimmerse://api.vimmerse.net/story/s6").uri == "vimmerse://api.vimmerse.net/story/s6"
    with pytest.raises(ValueError, match="API host"):
        Asset("vimmerse:///story/s6")
