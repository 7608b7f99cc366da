"""The typed API: runtime signatures and the committed stubs come from the endpoint specs and agree with them."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from airflow import __version__ as airflow_version

from airflow_provider_vimmerse import _signatures
from airflow_provider_vimmerse._endpoints import ENDPOINTS
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.story import VimmerseCreateVideosOperator, VimmerseIdeaToVideoOperator

PACKAGE = Path(_signatures.__file__).parent


@pytest.mark.parametrize("relative", sorted(_signatures.STUBS))
def test_the_committed_stubs_are_what_the_specs_give(relative):
    committed = (PACKAGE / relative).read_text()
    if f"Airflow {airflow_version}." not in committed.splitlines()[1]:
        pytest.skip("the stubs are generated with the newest supported Airflow (BaseOperator's arguments)")
    assert committed == _signatures.STUBS[relative](), f"{relative} is stale: run `make stubs`"


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_hook_method_takes_exactly_its_specs_arguments(name):
    endpoint = ENDPOINTS[name]
    signature = inspect.signature(getattr(VimmerseHook, name))
    expected = {"self", "extra_params", *(p.keyword for p in endpoint.params)} | (
        {"story_id"} if endpoint.on_story else set()
    )
    assert set(signature.parameters) == expected  # older names work, but are not offered
    assert signature.return_annotation == "VimmerseStory"
    for param in endpoint.params:
        assert signature.parameters[param.keyword].annotation.startswith(param.annotation)


def test_strict_value_lists_are_literals_and_advisory_ones_plain_text():
    signature = inspect.signature(VimmerseHook.idea_to_video)
    assert signature.parameters["aspect_ratio"].annotation.startswith('Literal["16:9"')
    assert signature.parameters["scene_duration"].annotation == "Literal[5, 10] | None"
    assert signature.parameters["video_tool"].annotation == "str | None"  # the service adds tools monthly


def test_a_templated_operator_argument_also_takes_jinja_text_and_task_outputs():
    parameters = inspect.signature(VimmerseIdeaToVideoOperator.__init__).parameters
    assert parameters["scene_count"].annotation == "int | str | XComArg | None"
    assert parameters["idea"].annotation == "str | XComArg"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"aspect_ratio": "16x9"}, "aspect_ratio"),
        ({"aspect_ratio": 16}, "aspect_ratio"),
        ({"scene_count": 0}, "scene_count"),
        ({"scene_duration": 7}, "scene_duration"),
        ({"webhook_url": "ftp://x"}, "webhook_url"),
        ({"audio_option": "{not json"}, "audio_option"),
    ],
)
def test_a_bad_literal_argument_fails_when_the_dag_is_parsed(arguments, field):
    with pytest.raises(VimmerseInvalidParameterError, match=field):
        VimmerseIdeaToVideoOperator(task_id="t", idea="x", **arguments)


def test_templated_arguments_wait_for_rendering_and_advisory_names_pass():
    op = VimmerseIdeaToVideoOperator(
        task_id="t", idea="x", scene_count="{{ params.n }}", aspect_ratio="{{ params.ratio }}", video_tool="NewTool"
    )
    assert op.scene_count == "{{ params.n }}" and op.video_tool == "NewTool"
    VimmerseCreateVideosOperator(task_id="v", story_id="{{ ti.xcom_pull('s') }}", duration=3)
    with pytest.raises(VimmerseInvalidParameterError, match="duration"):
        VimmerseCreateVideosOperator(task_id="w", story_id="s", duration=11)
