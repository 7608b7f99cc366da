"""The endpoint specs: defaults, aliases, ignored names, encoding and docs, all from one place."""

from __future__ import annotations

import warnings

import pytest

from airflow_provider_vimmerse import _endpoints as api
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError


def _payload(endpoint, **given):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fields = endpoint.payload(given)
    return fields, [str(w.message) for w in caught]


@pytest.mark.parametrize(
    ("endpoint", "given"),
    [
        (api.IDEA_TO_VIDEO, {"idea": "A fox bakes bread"}),
        (api.URL_TO_VIDEO, {"url": "https://example.com/p"}),
        (api.IMAGES_TO_VIDEO, {"image_urls": ["https://example.com/1.png"]}),
        (api.CREATE_STORYBOARD, {"idea": "A fox"}),
        (api.CREATE_ELEMENTS, {}),
        (api.CREATE_SCENES, {}),
        (api.CREATE_VIDEOS, {}),
        (api.CONCAT_STORY, {}),
        (api.UPDATE_STORY, {}),
    ],
    ids=lambda x: getattr(x, "name", ""),
)
def test_only_what_the_caller_set_is_sent(endpoint, given):
    fields, warned = _payload(endpoint, **given)
    sent_as = {"url": "idea"}
    assert fields == {sent_as.get(name, name): value for name, value in given.items()}
    assert warned == []


def test_a_set_argument_is_sent_even_when_it_equals_the_default_last_seen():
    fields, _ = _payload(api.IDEA_TO_VIDEO, idea="x", image_tool="AutoI", scene_count=3)
    assert fields == {"idea": "x", "image_tool": "AutoI", "scene_count": 3}


def test_the_docs_show_the_default_last_seen_as_not_sent():
    doc = api.IDEA_TO_VIDEO.parameter_docs()
    assert ":param image_tool:" in doc and "last seen) is ``'AutoI'``" in doc and "Not sent when unset" in doc


@pytest.mark.parametrize("tool", ["Vidu", "AutoT1", "VeoLite", "PVideo"])
def test_the_newer_video_tools_are_known(tool, caplog):
    fields, _ = _payload(api.IDEA_TO_VIDEO, idea="x", video_tool=tool)
    assert fields["video_tool"] == tool and "not in the known list" not in caplog.text


def test_an_unknown_tool_is_sent_with_a_warning(caplog):
    fields, _ = _payload(api.IDEA_TO_VIDEO, idea="x", video_tool="Brand-new", image_tool="AutoI")
    assert fields["video_tool"] == "Brand-new" and "Brand-new" in caplog.text and "AutoI" not in caplog.text


def test_create_storyboard_continues_an_existing_story():
    story_id = "0b0c1d2e-0000-4000-8000-000000000001"
    fields, _ = _payload(api.CREATE_STORYBOARD, idea="x", story_id=story_id)
    assert fields == {"story_id": story_id, "idea": "x"}
    with pytest.raises(VimmerseInvalidParameterError, match="story_id"):
        api.CREATE_STORYBOARD.payload({"idea": "x", "story_id": "../etc"})


def test_images_to_video_does_not_send_elements():
    fields, warned = _payload(api.IMAGES_TO_VIDEO, image_urls=["https://e.com/1.png"], elements={"characters": []})
    assert "elements" not in fields
    assert len(warned) == 1 and "'elements' has no effect" in warned[0]


@pytest.mark.parametrize("endpoint", [api.CREATE_ELEMENTS, api.CREATE_SCENES, api.CREATE_VIDEOS])
def test_a_step_storyboard_is_sent_with_all_four_lists(endpoint):
    fields, _ = _payload(endpoint, storyboard={"scenes": [{"name": "a"}], "music": {"description": "m"}})
    assert fields["storyboard"] == {
        "scenes": [{"name": "a"}],
        "music": {"description": "m"},
        "characters": [],
        "environments": [],
        "objects": [],
    }
    for empty in ({"scenes": []}, {"characters": [{"name": "c"}]}):
        with pytest.raises(VimmerseInvalidParameterError, match="scenes"):
            endpoint.payload({"storyboard": empty})


def test_an_older_name_together_with_its_new_name_is_refused():
    with pytest.raises(VimmerseInvalidParameterError, match=r"'motion_type'.*'video_tool'"):
        api.IDEA_TO_VIDEO.payload({"idea": "x", "motion_type": "KlingAI", "video_tool": "Auto"})
    with pytest.raises(VimmerseInvalidParameterError, match=r"'narrator'.*'audio_option.narrator'"):
        api.IDEA_TO_VIDEO.payload({"idea": "x", "narrator": "Aria", "audio_option": {"narrator": "Bill"}})


def test_templated_extra_params_are_read_as_json_text():
    assert api.IDEA_TO_VIDEO.payload({"idea": "x"}, '{"brand_new": 1}') == {"idea": "x", "brand_new": 1}
    with pytest.raises(VimmerseInvalidParameterError, match="extra_params"):
        api.IDEA_TO_VIDEO.payload({"idea": "x"}, "[1, 2]")


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


def test_url_to_video_instructions_follow_the_url_in_idea():
    fields, _ = _payload(
        api.URL_TO_VIDEO, url="https://example.com/product", instructions="Make a 30 second ad for young parents"
    )
    assert fields == {"idea": "https://example.com/product Make a 30 second ad for young parents"}
    assert _payload(api.URL_TO_VIDEO, url="https://example.com/p", instructions="  ")[0] == {
        "idea": "https://example.com/p"
    }
    with pytest.raises(VimmerseInvalidParameterError, match="'url'"):
        api.URL_TO_VIDEO.payload({"url": "not a url", "instructions": "x"})


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


def _deep(levels: int) -> dict:
    board: dict = {"scenes": [{"name": "a"}]}
    node = board
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return board


@pytest.mark.parametrize(
    ("endpoint", "given", "field"),
    [
        (api.IDEA_TO_VIDEO, {"idea": "x", "scene_count": 10**5000}, "scene_count"),
        (api.IDEA_TO_VIDEO, {"idea": "a fox \ud800 runs"}, "idea"),
        (api.IDEA_TO_VIDEO, {"idea": "x", "title": "\udfff"}, "title"),
        (api.CREATE_ELEMENTS, {"storyboard": _deep(100_000)}, "storyboard"),
        (api.CREATE_ELEMENTS, {"storyboard": "[" * 100_000 + "]" * 100_000}, "storyboard"),
        (api.IDEA_TO_VIDEO, {"idea": "x", "elements": {"characters": [{"name": "\ud83d"}]}}, "elements"),
    ],
    ids=["huge-int", "surrogate", "surrogate-title", "deep-object", "deep-text", "nested-surrogate"],
)
def test_values_that_cannot_be_sent_are_parameter_errors(endpoint, given, field):
    with pytest.raises(VimmerseInvalidParameterError) as raised:
        endpoint.payload(given)
    assert raised.value.field == field
