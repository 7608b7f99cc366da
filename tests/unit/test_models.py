"""The typed story object: tolerant parsing of what the service sends."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.exceptions import VimmerseUnavailableError
from airflow_provider_vimmerse.models import VimmerseStory, VimmerseStoryStatus, _data_from_body, _story_from_body


def test_full_story_is_parsed_and_keeps_unknown_fields():
    story = VimmerseStory.from_api(
        {
            "id": "abc",
            "status": "success",
            "progress_percentage": 100,
            "video_url": "https://cdn/x.mp4",
            "used_credits": 12,
            "created_at": "2025-09-02 17:20:48.587526+00:00",
            "updated_at": "2025-09-02 17:25:00+00:00",
            "is_transition": "Yes",
            "medias": [{"media_id": "m1"}],
            "failed_medias": [],
            "storyboard": {"scenes": []},
            "brand_new_field": {"x": 1},
        }
    )
    assert story.status is VimmerseStoryStatus.SUCCESS and story.status.is_terminal
    assert story.created_at.year == 2025 and story.created_at.minute == 20
    assert story.is_transition is True
    assert story.raw["brand_new_field"] == {"x": 1}
    assert story.summary()["video_url"] == "https://cdn/x.mp4"


def test_minimal_story_gets_neutral_defaults():
    story = VimmerseStory.from_api({"id": "abc", "status": "processing"})
    assert story.progress_percentage == 0 and story.video_url == "" and story.medias == []
    assert story.used_credits is None and story.created_at is None and story.is_transition is None
    assert not story.status.is_terminal


@pytest.mark.parametrize(
    ("wire", "expected"), [(True, True), (False, False), ("No", False), ("yes", True), ("?", None)]
)
def test_is_transition_accepts_both_forms(wire, expected):
    assert VimmerseStory.from_api({"id": "a", "status": "new", "is_transition": wire}).is_transition is expected


def test_unknown_status_is_not_terminal():
    status = VimmerseStoryStatus.parse("queued")
    assert status is VimmerseStoryStatus.UNKNOWN and not status.is_terminal
    assert VimmerseStoryStatus.parse("FAIL").is_terminal


@pytest.mark.parametrize("data", [None, [], {"status": "new"}, {"id": ""}])
def test_data_without_an_id_is_a_response_error(data):
    with pytest.raises(VimmerseUnavailableError):
        VimmerseStory.from_api(data)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
        (b'{"story": {}}', "'id'"),
        (b'{"data": {}}', "'id'"),
        (b'[{"id": "a"}]', "not an object"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
)
def test_malformed_success_bodies_are_response_errors(body, says):
    with pytest.raises(VimmerseUnavailableError, match=says):
        _story_from_body(body, method="GET", path="/story/x")


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": {"id": "s1", "status": "processing", "progress_percentage": 40}}',
        b'{"id": "s1", "status": "processing", "progress_percentage": 40}',
        # A flat story that happens to carry a field named "data" is still the story.
        b'{"id": "s1", "status": "processing", "progress_percentage": 40, "data": {"other": 1}}',
    ],
    ids=["wrapped", "flat", "flat-with-a-data-field"],
)
def test_a_story_is_read_wrapped_or_flat(body):
    story = _story_from_body(body, method="GET", path="/v2/story/s1")
    assert (story.id, story.status, story.progress_percentage) == ("s1", VimmerseStoryStatus.PROCESSING, 40)


def test_an_impossible_progress_is_read_as_zero():
    story = _story_from_body(b'{"id": "s1", "status": "new", "progress_percentage": 1e999}', method="GET", path="/x")
    assert story.progress_percentage == 0


def test_an_empty_object_answer_is_success_without_data():
    assert _data_from_body(b"{}", method="DELETE", path="/story/x") is None


def test_summary_is_json_with_title_and_storyboard():
    story = VimmerseStory.from_api(
        {"id": "a", "status": "success", "title": "T", "storyboard": {"scenes": [{"name": "S"}]}}
    )
    summary = story.summary()
    assert summary["title"] == "T" and summary["storyboard"] == {"scenes": [{"name": "S"}]}
    assert summary["story_id"] == "a" and summary["status"] == "success"
