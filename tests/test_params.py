"""Validation and form encoding: pure logic, no servers."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_vimmerse import params as p
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError

STORYBOARD = {"characters": [{"name": "Pip", "description": "a bunny"}], "scenes": [{"name": "One", "narrator": "Hi"}]}


@pytest.mark.parametrize(
    ("check", "args", "field", "allowed"),
    [
        (p.idea, ("",), "idea", "non-empty"),
        (p.idea, ("   \n",), "idea", "non-empty"),
        (p.idea, ("x" * (p.MAX_IDEA_LENGTH + 1),), "idea", "at most"),
        (p.idea, (42,), "idea", "a string"),
        (p.integer, ("scene_count", 0, 1), "scene_count", ">= 1"),
        (p.integer, ("scene_count", -3, 1), "scene_count", ">= 1"),
        (p.integer, ("scene_count", 2.5, 1), "scene_count", "integer"),
        (p.integer, ("scene_count", True, 1), "scene_count", "integer"),
        (p.integer, ("duration", 0, 1, 10), "duration", "from 1 to 10"),
        (p.integer, ("duration", 11, 1, 10), "duration", "from 1 to 10"),
        (p.integer, ("loop", 7, 1, 6), "loop", "from 1 to 6"),
        (p.choice, ("aspect_ratio", "21:9", p.ASPECT_RATIOS), "aspect_ratio", "16:9"),
        (p.choice, ("option", "Midjourney", p.IMAGE_OPTIONS), "option", "FluxKontextPro"),
        (p.choice, ("option", "FluxFinetuned", p.ELEMENT_OPTIONS), "option", "FluxKontextMax"),
        (p.choice, ("motion_type", "Sora", p.MOTION_TYPES), "motion_type", "KlingAI"),
        (p.choice, ("narrator", "HAL", p.NARRATORS), "narrator", "Rachel"),
        (p.choice, ("visibility_status", "3", p.VISIBILITY_STATUSES), "visibility_status", "0, 1, 2"),
        (p.yes_no, ("is_transition", "yes"), "is_transition", "Yes, No"),
        (p.boolean, ("enhance_image", "maybe"), "enhance_image", "true or false"),
        (p.story_id, ("",), "story_id", "letters"),
        (p.story_id, ("a/b",), "story_id", "letters"),
        (p.story_id, ("..",), "story_id", "letters"),
        (p.story_id, ("id?x=1",), "story_id", "letters"),
        (p.story_id, ("id#frag",), "story_id", "letters"),
        (p.story_id, (None,), "story_id", "letters"),
        (p.http_url, ("webhook_url", "ftp://example.com/hook"), "webhook_url", "http"),
        (p.http_url, ("webhook_url", "not a url"), "webhook_url", "http"),
        (p.storyboard, ("{not json",), "storyboard", "JSON object"),
        (p.storyboard, ({"characters": []},), "storyboard.scenes", "non-empty"),
        (p.storyboard, ({"scenes": "one"},), "storyboard.scenes", "list of objects"),
        (p.storyboard, ({"scenes": [{}], "music": "loud"},), "storyboard.music", "an object"),
        (p.storyboard, ([1, 2],), "storyboard", "JSON object"),
        (p.url_list, ("concat_video_urls", "http://a/b.mp4"), "concat_video_urls", "list"),
    ],
)
def test_bad_values_name_the_field_and_the_allowed_values(check, args, field, allowed):
    with pytest.raises(VimmerseInvalidParameterError) as err:
        check(*args)
    assert err.value.field == field
    assert field in str(err.value)
    assert allowed in str(err.value)
    assert isinstance(err.value, ValueError)


def test_good_values_come_back_in_wire_form():
    assert p.integer("duration", "7", 1, 10) == "7"
    assert p.boolean("x", True) == "true"
    assert p.boolean("x", "False") == "false"
    assert p.yes_no("is_transition", True) == "Yes"
    assert p.choice("narrator", "Brian", p.NARRATORS) == "Brian"
    assert p.story_id("3f2a-11_b") == "3f2a-11_b"
    assert json.loads(p.storyboard(json.dumps(STORYBOARD))) == STORYBOARD


def test_unknown_values_pass_only_when_allowed_and_never_silently(caplog):
    with caplog.at_level(logging.WARNING):
        assert p.choice("option", "FluxNext", p.IMAGE_OPTIONS, allow_unknown=True) == "FluxNext"
    assert "FluxNext" in caplog.text and "not in the documented list" in caplog.text
    with pytest.raises(VimmerseInvalidParameterError):
        p.choice("option", "", p.IMAGE_OPTIONS, allow_unknown=True)


def test_form_repeats_list_keys_drops_none_and_merges_extra_params():
    items = p.form({"concat_video_urls": ["http://a/1.mp4", "http://a/2.mp4"], "seed": None, "title": "T"}, {"new_flag": True})
    assert items == [("concat_video_urls", "http://a/1.mp4"), ("concat_video_urls", "http://a/2.mp4"), ("title", "T"), ("new_flag", "true")]


def test_extra_params_cannot_override_a_documented_parameter():
    with pytest.raises(VimmerseInvalidParameterError, match="extra_params"):
        p.form({"duration": "5"}, {"duration": 99})
