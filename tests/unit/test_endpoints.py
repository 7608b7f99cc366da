"""The endpoint specs: defaults, aliases, ignored names, encoding and docs, all from one place."""

from __future__ import annotations

import warnings

import pytest

from airflow_provider_vimmerse import endpoints as api
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError


def _payload(endpoint, **given):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fields = endpoint.payload(given)
    return fields, [str(w.message) for w in caught]


def test_auto_mode_defaults_are_the_documents():
    fields, warned = _payload(api.IDEA_TO_VIDEO, idea="A fox bakes bread")
    assert fields == {
        "idea": "A fox bakes bread",
        "scene_count": 3,
        "image_tool": "Seedream",
        "video_tool": "Auto",
        "scene_duration": 5,
        "aspect_ratio": "16:9",
        "is_transition": False,
        "language": "English",
        "title": "",
    }
    assert warned == []


@pytest.mark.parametrize(
    ("endpoint", "old", "value", "new", "expected"),
    [
        (api.IDEA_TO_VIDEO, "option", "FluxTurbo", "image_tool", "FluxTurbo"),
        (api.IDEA_TO_VIDEO, "motion_type", "KlingAI", "video_tool", "KlingAI"),
        (api.IDEA_TO_VIDEO, "duration", 10, "scene_duration", 10),
        (api.URL_TO_VIDEO, "narrator", "Aria", "audio_option", {"narrator": "Aria"}),
        (api.IMAGES_TO_VIDEO, "background_music", False, "audio_option", {"has_bg_music": False}),
        (api.CREATE_ELEMENTS, "background_music", False, "has_bg_music", False),
        (api.CREATE_SCENES, "narrator", "Bill", "audio_option", {"narrator": "Bill"}),
    ],
)
def test_older_names_set_the_new_field_with_one_warning(endpoint, old, value, new, expected):
    required = {"idea": "x"} if endpoint is api.IDEA_TO_VIDEO else {}
    required = {"url": "https://example.com/p"} if endpoint is api.URL_TO_VIDEO else required
    required = {"image_urls": ["https://example.com/1.png"]} if endpoint is api.IMAGES_TO_VIDEO else required
    fields, warned = _payload(endpoint, **required, **{old: value})
    assert fields[new] == expected and old not in fields
    assert len(warned) == 1 and repr(old) in warned[0] and new in warned[0]


def test_an_alias_merges_into_an_object_the_caller_also_gave():
    fields, _ = _payload(api.IDEA_TO_VIDEO, idea="x", narrator="Aria", audio_option={"has_bg_music": False})
    assert fields["audio_option"] == {"has_bg_music": False, "narrator": "Aria"}


@pytest.mark.parametrize("name", ["seed", "loop", "sound_effects", "visibility_status", "generate_elements"])
def test_names_the_service_no_longer_reads_are_dropped_with_a_warning(name):
    fields, warned = _payload(api.IDEA_TO_VIDEO, idea="x", **{name: 1})
    assert name not in fields
    assert len(warned) == 1 and "has no effect" in warned[0]


def test_unknown_names_and_missing_required_fields_are_refused():
    with pytest.raises(VimmerseInvalidParameterError, match="idea_to_video"):
        api.IDEA_TO_VIDEO.payload({"idea": "x", "scene_cuont": 3})
    with pytest.raises(VimmerseInvalidParameterError, match="required"):
        api.IDEA_TO_VIDEO.payload({})
    with pytest.raises(VimmerseInvalidParameterError, match="'url'"):
        api.URL_TO_VIDEO.payload({})


def test_url_to_video_sends_the_url_as_idea():
    fields, _ = _payload(api.URL_TO_VIDEO, url="https://example.com/product")
    assert fields["idea"] == "https://example.com/product" and "url" not in fields
    with pytest.raises(VimmerseInvalidParameterError, match="http"):
        api.URL_TO_VIDEO.payload({"url": "example.com"})


def test_step_defaults_do_not_override_the_story():
    fields, _ = _payload(api.CREATE_ELEMENTS)
    assert "aspect_ratio" not in fields  # follows the story's aspect ratio
    assert fields["option"] == "Seedream" and fields["enhance_image"] is False


def test_put_sends_only_what_was_given():
    fields, warned = _payload(api.UPDATE_STORY, title="T", storyboard={"scenes": [{}]})
    assert fields == {"title": "T"}
    assert "has no effect" in warned[0]


def test_extra_params_are_sent_but_cannot_override():
    assert api.IDEA_TO_VIDEO.payload({"idea": "x"}, {"brand_new": 1})["brand_new"] == 1
    with pytest.raises(VimmerseInvalidParameterError, match="extra_params"):
        api.IDEA_TO_VIDEO.payload({"idea": "x"}, {"scene_count": 9})
    with pytest.raises(VimmerseInvalidParameterError, match="extra_params"):
        api.IDEA_TO_VIDEO.payload({"idea": "x"}, {"bad": float("nan")})


def test_form_encoding_repeats_lists_and_writes_objects_as_json():
    items = api.encode_form(
        {
            "concat_video_urls": ["http://a/1.mp4", "http://a/2.mp4"],
            "audio_option": {"narrator": "Aria"},
            "loop": 2,
            "x": True,
        }
    )
    assert items == [
        ("concat_video_urls", "http://a/1.mp4"),
        ("concat_video_urls", "http://a/2.mp4"),
        ("audio_option", '{"narrator": "Aria"}'),
        ("loop", "2"),
        ("x", "true"),
    ]


@pytest.mark.parametrize("endpoint", list(api.ENDPOINTS.values()), ids=list(api.ENDPOINTS))
def test_the_docstring_names_every_argument(endpoint):
    doc = endpoint.docstring()
    for param in endpoint.params:
        assert f":param {param.keyword}:" in doc
    assert f"{endpoint.method} {endpoint.path}" in doc
