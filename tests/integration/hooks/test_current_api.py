"""
The hook against the sandbox, which checks requests like the service does: every endpoint with
every current field, and every older name still working, in each API version. Each sandbox here
serves only the version the connection names, so a request on the other version's paths fails.
"""

from __future__ import annotations

import json
import warnings

import pytest

from airflow_provider_vimmerse import _endpoints as api
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import API_KEY, set_connection
from tests.integration.conftest import EXAMPLE_DATA, TEST_SPEED, stats
from tests.integration.sandbox_process import SandboxProcess

IMAGES = ["harbor", "market"]


@pytest.fixture(params=["v2", "legacy"])
def static_sandbox(request, tmp_path):
    """A sandbox serving only one API version, and the example data under ``/static/``."""
    with SandboxProcess(
        tmp_path / "sandbox",
        api_key=API_KEY,
        speed=TEST_SPEED,
        static_dir=EXAMPLE_DATA,
        extra_args=["--api-versions", request.param],
    ) as server:
        server.api_version = request.param
        yield server


@pytest.fixture
def hook(static_sandbox, monkeypatch):
    set_connection(monkeypatch, static_sandbox.url, api_version=static_sandbox.api_version)
    with VimmerseHook() as h:
        yield h


def _images(sandbox) -> list[str]:
    return [f"{sandbox.url}/static/images/{name}.png" for name in IMAGES]


def test_idea_to_video_with_every_field(hook, static_sandbox):
    story = hook.idea_to_video(
        "A lighthouse keeper befriends a whale",
        scene_count=2,
        image_tool="NanoBanana",
        video_tool="Seedance",
        scene_duration=10,
        aspect_ratio="1:1",
        is_transition=True,
        language="Spanish",
        title="Faro",
        elements={
            "characters": [{"name": "Keeper", "description": "an old keeper", "image_url": _images(static_sandbox)[0]}]
        },
        audio_option={"narrator": "Aria", "has_bg_music": False},
        webhook_url=f"{static_sandbox.url}/health",
    )
    done = hook.wait_for_story(story.id, poll_interval=1, needs_video=True)
    assert done.raw["language"] == "Spanish" and done.raw["aspect_ratio"] == "1:1" and done.title == "Faro"
    assert done.raw["audio_option"]["narrator"] == "Aria" and done.raw["has_bg_music"] is False
    assert done.storyboard["characters"][0]["name"] == "Keeper"
    assert done.raw["submit_params"]["duration"] == 10


def test_url_and_images_to_video(hook, static_sandbox):
    page = hook.url_to_video(f"{static_sandbox.url}/static/page/index.html", scene_count=1, language="German")
    images = hook.images_to_video(
        _images(static_sandbox), idea="Morning. Noon.", audio_option='{"has_narration": false}'
    )
    for story in (page, images):
        assert hook.wait_for_story(story.id, poll_interval=1, needs_video=True).video_url
    assert hook.get_story(images.id).raw["has_narration"] is False


def test_advanced_steps_with_every_field(hook, static_sandbox, tmp_path):
    cover = tmp_path / "cover.png"
    cover.write_bytes((static_sandbox.static_dir / "images" / "captain.png").read_bytes())
    # Local files are uploaded in Legacy's multipart request only; v2 takes image URLs.
    images = (
        {"image_files": [str(cover)]}
        if static_sandbox.api_version == "legacy"
        else {"image_urls": _images(static_sandbox)[:1]}
    )
    board = hook.create_storyboard(
        "A day at the harbor",
        scene_count=2,
        language="French",
        aspect_ratio="9:16",
        audio_option={"narrator": "Bill"},
        elements=json.dumps({"objects": [{"name": "Lantern", "description": "brass"}]}),
        **images,
    )
    board = hook.wait_for_story(board.id, poll_interval=1)
    assert len(board.storyboard["scenes"]) == 1  # one image, one scene
    assert board.storyboard["objects"][0]["name"] == "Lantern"
    hook.create_elements(board.id, option="FluxPro", enhance_image=True, has_bg_music=True, storyboard=board.storyboard)
    hook.wait_for_story(board.id, poll_interval=1)
    hook.create_scenes(
        board.id, option="GPTImage", has_narration=True, has_bg_music=True, audio_option={"narrator": "Lily"}
    )
    hook.wait_for_story(board.id, poll_interval=1)
    hook.create_videos(
        board.id, title="Harbor", motion_type="PicoMotion", duration=2, loop=2, native_audio=False, is_transition=False
    )
    done = hook.wait_for_story(board.id, poll_interval=1, needs_video=True)
    assert done.video_url and done.title == "Harbor"
    updated = hook.update_story(
        board.id, title="Harbor day", description="d", visibility_status="0", additional_videos=[done.video_url]
    )
    assert updated.raw["additional_videos"] == [done.video_url] and updated.raw["visibility_status"] == "0"
    assert hook.concat_story(board.id, concat_video_urls=[done.video_url]).id == board.id  # Legacy answers {}
    hook.delete_story(board.id)  # answered {}


def test_a_storyboard_is_written_again_for_an_existing_story(hook):
    first = hook.wait_for_story(hook.create_storyboard("A fox opens a bakery", scene_count=1).id, poll_interval=1)
    again = hook.create_storyboard("A heron opens a tea house", story_id=first.id, scene_count=2)
    assert again.id == first.id
    rewritten = hook.wait_for_story(first.id, poll_interval=1)
    assert len(rewritten.storyboard["scenes"]) == 2 and "heron" in rewritten.raw["idea"]


def test_url_to_video_with_instructions_after_the_url(hook, static_sandbox):
    page = f"{static_sandbox.url}/static/page/index.html"
    story = hook.url_to_video(page, instructions="Make a 10 second teaser", scene_count=1)
    assert story.raw["idea"] == f"{page} Make a 10 second teaser"
    assert hook.wait_for_story(story.id, poll_interval=1, needs_video=True).video_url


ALIASES = [
    (endpoint, alias)
    for endpoint in (api.IDEA_TO_VIDEO, api.IMAGES_TO_VIDEO, api.CREATE_ELEMENTS, api.CREATE_SCENES)
    for alias in endpoint.aliases
]
OLD_VALUES = {
    "option": "FluxTurbo",
    "motion_type": "Pixverse",
    "duration": 10,
    "narrator": "Roger",
    "background_music": False,
}


@pytest.mark.parametrize(("endpoint", "alias"), ALIASES, ids=[f"{e.name}-{a.old}" for e, a in ALIASES])
def test_every_older_name_is_accepted_by_the_service_with_one_warning(hook, static_sandbox, endpoint, alias):
    value = OLD_VALUES[alias.old]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if endpoint.on_story:
            board = hook.wait_for_story(hook.create_storyboard("Aliases", scene_count=1).id, poll_interval=1)
            story = getattr(hook, endpoint.name)(board.id, **{alias.old: value})
        elif endpoint is api.IMAGES_TO_VIDEO:
            story = hook.images_to_video(_images(static_sandbox), **{alias.old: value})
        else:
            story = hook.idea_to_video("Aliases", scene_count=1, **{alias.old: value})
    deprecations = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1 and repr(alias.old) in deprecations[0] and alias.new in deprecations[0]
    assert hook.wait_for_story(story.id, poll_interval=1).status.value == "success"


def test_a_step_on_a_story_that_is_not_a_uuid_is_a_bad_request(hook):
    from airflow_provider_vimmerse.exceptions import VimmerseApiError

    with pytest.raises(VimmerseApiError, match="Invalid story ID format"):
        hook.get_story("not-a-uuid")


def test_nothing_was_charged_twice(hook, static_sandbox):
    hook.wait_for_story(hook.idea_to_video("Once", scene_count=1).id, poll_interval=1)
    assert stats(static_sandbox)["stories_created"] == 1
