"""Parameter checks: pure logic, no servers."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._endpoints import ASPECT_RATIOS, IMAGE_MODELS
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError


def _nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"x": value}
    return value


STORYBOARD = {"characters": [{"name": "Pip", "description": "a bunny"}], "scenes": [{"name": "One", "narrator": "Hi"}]}


@pytest.mark.parametrize(
    ("check", "args", "field", "allowed"),
    [
        (v.text, ("idea", 42), "idea", "a string"),
        (v.integer, ("scene_count", 0, 1), "scene_count", ">= 1"),
        (v.integer, ("scene_count", -3, 1), "scene_count", ">= 1"),
        (v.integer, ("scene_count", 2.5, 1), "scene_count", "integer"),
        (v.integer, ("scene_count", True, 1), "scene_count", "integer"),
        (v.integer, ("duration", 0, 1, 10), "duration", "from 1 to 10"),
        (v.integer, ("loop", 7, 1, 6), "loop", "from 1 to 6"),
        (v.integer_choice, ("scene_duration", 7, (5, 10)), "scene_duration", "5, 10"),
        (v.integer_choice, ("scene_duration", True, (5, 10)), "scene_duration", "5, 10"),
        (v.choice, ("aspect_ratio", "21:9", ASPECT_RATIOS), "aspect_ratio", "16:9"),
        (v.choice, ("option", "", IMAGE_MODELS), "option", "Seedream"),
        (v.boolean, ("enhance_image", "maybe"), "enhance_image", "true or false"),
        (v.story_id, ("",), "story_id", "letters"),
        (v.story_id, ("a/b",), "story_id", "letters"),
        (v.story_id, ("..",), "story_id", "letters"),
        (v.story_id, ("id?x=1",), "story_id", "letters"),
        (v.story_id, ("id#frag",), "story_id", "letters"),
        (v.story_id, (None,), "story_id", "letters"),
        (v.http_url, ("webhook_url", "ftp://example.com/hook"), "webhook_url", "http"),
        (v.http_url, ("webhook_url", "not a url"), "webhook_url", "http"),
        (v.storyboard, ("storyboard", "{not json"), "storyboard", "JSON object"),
        (v.storyboard, ("storyboard", {"characters": []}), "storyboard.scenes", "non-empty"),
        (v.storyboard, ("storyboard", {"scenes": "one"}), "storyboard.scenes", "list of objects"),
        (v.storyboard, ("storyboard", {"scenes": [{}], "music": "loud"}), "storyboard.music", "an object"),
        (v.storyboard, ("storyboard", [1, 2]), "storyboard", "JSON object"),
        (v.storyboard, ("storyboard", {"scenes": [{"x": float("nan")}]}), "storyboard", "no NaN"),
        (v.storyboard, ("storyboard", {"scenes": [{"narrator": "x" * 1_100_000}]}), "storyboard", "bytes of JSON"),
        (v.storyboard, ("storyboard", {"scenes": [{"deep": _nested(40)}]}), "storyboard", "levels deep"),
        (v.url_list, ("concat_video_urls", "http://a/b.mp4"), "concat_video_urls", "list"),
        (v.url_list, ("image_urls", ["ftp://x/1.png"]), "image_urls", "http"),
        (v.audio_option, ("audio_option", {"has_bg_music": "loud"}), "audio_option.has_bg_music", "true or false"),
        (v.audio_option, ("audio_option", "[1]"), "audio_option", "JSON object"),
        (v.number, ("timeout", "soon"), "timeout", "a number"),
        (v.number, ("timeout", float("inf")), "timeout", "a number"),
    ],
)
def test_bad_values_name_the_field_and_the_allowed_values(check, args, field, allowed):
    with pytest.raises(VimmerseInvalidParameterError) as err:
        check(*args)
    assert err.value.field == field
    assert field in str(err.value)
    assert allowed in str(err.value)
    assert isinstance(err.value, ValueError)


def test_required_text_refuses_blank_text():
    with pytest.raises(VimmerseInvalidParameterError, match="non-empty"):
        v.text("idea", "  \n", required=True)
    with pytest.raises(VimmerseInvalidParameterError, match="at most 5"):
        v.text("title", "x" * 6, max_length=5)


def test_good_values_come_back_as_python_values():
    assert v.integer("duration", "7", 1, 10) == 7
    assert v.integer_choice("scene_duration", "10", (5, 10)) == 10
    assert v.boolean("x", True) is True and v.boolean("x", "False") is False
    assert v.story_id("3f2a-11_b") == "3f2a-11_b"
    assert v.storyboard("storyboard", json.dumps(STORYBOARD)) == {**STORYBOARD, "environments": [], "objects": []}
    assert v.storyboard("storyboard", str(STORYBOARD)) == {
        **STORYBOARD,
        "environments": [],
        "objects": [],
    }  # what Jinja renders for a dict
    assert v.url_list("image_urls", '["https://a/1.png"]') == ["https://a/1.png"]
    assert v.audio_option("audio_option", '{"has_narration": "true", "narrator": "Aria"}') == {
        "has_narration": True,
        "narrator": "Aria",
    }
    assert v.number("timeout", timedelta(minutes=2)) == 120.0


def test_advisory_lists_send_unknown_names_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        assert v.choice("option", "FluxNext", IMAGE_MODELS, advisory=True) == "FluxNext"
    assert "FluxNext" in caplog.text and "not in the known list" in caplog.text
    with pytest.raises(VimmerseInvalidParameterError):
        v.choice("option", "FluxNext", IMAGE_MODELS)
    with pytest.raises(VimmerseInvalidParameterError):
        v.choice("option", 3, IMAGE_MODELS, advisory=True)
