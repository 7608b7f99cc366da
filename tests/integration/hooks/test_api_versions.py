"""
The wire in each Story API version, against a scripted server: paths, encodings, exactly the
fields the caller set, and every answer and error shape the documents describe.

v2 (the default): ``/v2/story/...``, JSON for every request. Legacy (``api_version="legacy"``):
``/story/...``, JSON for the automatic modes, multipart for ``POST /story``, forms for the steps.
"""

from __future__ import annotations

import json

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.hooks.vimmerse_async import VimmerseAsyncHook
from tests.conftest import set_connection
from tests.integration.recording_server import RecordingServer, Reply, story_body

SID = "0b0c1d2e-0000-4000-8000-000000000001"
STORYBOARD = {
    "characters": [{"name": "Pip", "description": "a bunny"}],
    "environments": [],
    "objects": [],
    "scenes": [{"name": "One", "image_description": "**Pip** waves", "narrator": "Hello."}],
    "music": {"description": "calm"},
}
PREFIX = {"v2": "/v2", "legacy": ""}

# (call, method, path as Legacy names it, the fields the call set, Legacy's encoding)
CALLS = [
    (lambda h: h.idea_to_video("a fox"), "POST", "/story/idea-2-video", {"idea": "a fox"}, "json"),
    (
        lambda h: h.url_to_video(
            "https://shop.example/p/1", instructions="Make a 30 second ad", audio_option={"narrator": "Aria"}
        ),
        "POST",
        "/story/url-2-video",
        {"idea": "https://shop.example/p/1 Make a 30 second ad", "audio_option": {"narrator": "Aria"}},
        "json",
    ),
    (
        lambda h: h.images_to_video(["https://img.example/1.png"], scene_duration=10),
        "POST",
        "/story/images-2-video",
        {"image_urls": ["https://img.example/1.png"], "scene_duration": 10},
        "json",
    ),
    (
        lambda h: h.create_storyboard("An idea", story_id=SID, scene_count=4, elements={"objects": []}),
        "POST",
        "/story",
        {"story_id": SID, "idea": "An idea", "scene_count": 4, "elements": {"objects": []}},
        "multipart",
    ),
    (
        lambda h: h.create_elements(SID, storyboard=STORYBOARD),
        "POST",
        f"/story/{SID}/elements",
        {"storyboard": STORYBOARD},
        "form",
    ),
    (
        # A storyboard with only its scenes is sent with all four lists, and nothing else added.
        lambda h: h.create_scenes(SID, aspect_ratio="9:16", storyboard={"scenes": STORYBOARD["scenes"]}),
        "POST",
        f"/story/{SID}/scenes",
        {
            "aspect_ratio": "9:16",
            "storyboard": {"scenes": STORYBOARD["scenes"], "characters": [], "environments": [], "objects": []},
        },
        "form",
    ),
    (
        lambda h: h.create_videos(SID, motion_type="SoraPro", native_audio=True),
        "POST",
        f"/story/{SID}/videos",
        {"motion_type": "SoraPro", "native_audio": True},
        "form",
    ),
    (
        lambda h: h.concat_story(SID, concat_video_urls=["http://a/1.mp4", "http://a/2.mp4"]),
        "POST",
        f"/story/{SID}/concat",
        {"concat_video_urls": ["http://a/1.mp4", "http://a/2.mp4"]},
        "form",
    ),
    (
        lambda h: h.update_story(SID, title="New", visibility_status=2, additional_videos=["https://v/1.mp4"]),
        "PUT",
        f"/story/{SID}",
        {"title": "New", "visibility_status": "2", "additional_videos": ["https://v/1.mp4"]},
        "form",
    ),
    (lambda h: h.get_story(SID), "GET", f"/story/{SID}", None, None),
    (lambda h: h.delete_story(SID), "DELETE", f"/story/{SID}", None, None),
]
CALL_IDS = [
    "idea_to_video",
    "url_to_video",
    "images_to_video",
    "create_storyboard",
    "create_elements",
    "create_scenes",
    "create_videos",
    "concat_story",
    "update_story",
    "get_story",
    "delete_story",
]


def flat(body: dict) -> dict:
    return body["data"]


@pytest.fixture(params=["v2", "legacy"])
def version(request):
    return request.param


@pytest.fixture
def server(monkeypatch, version):
    with RecordingServer() as srv:
        extra = {} if version == "v2" else {"api_version": "legacy"}  # v2 is what an unset extra means
        set_connection(monkeypatch, srv.url, retry_limit=0, **extra)
        yield srv


def _legacy_fields(request, encoding):
    """What a Legacy request carried, decoded back to Python values for comparison."""
    if encoding == "json":
        return request.json
    items = request.multipart if encoding == "multipart" else request.form
    decoded: dict = {}
    for key, text in items:
        value = json.loads(text) if text[:1] in "{[" or text in ("true", "false") else text
        if key == "concat_video_urls":
            decoded.setdefault(key, []).append(text)
        else:
            decoded[key] = value
    return decoded


@pytest.mark.parametrize(("call", "method", "path", "fields", "encoding"), CALLS, ids=CALL_IDS)
def test_each_method_uses_its_versions_path_and_encoding_and_sends_only_what_was_set(
    server, hook, version, call, method, path, fields, encoding
):
    server.default = Reply(body=story_body(SID) if version == "legacy" else flat(story_body(SID)))
    call(hook)
    request = server.requests[0]
    assert (request.method, request.path) == (method, PREFIX[version] + path)
    if fields is None:
        assert request.body == b""
    elif version == "v2":
        assert request.headers["Content-Type"] == "application/json"
        assert request.json == fields
    else:
        content_type = {"json": "application/json", "multipart": "multipart/form-data"}.get(
            encoding, "application/x-www-form-urlencoded"
        )
        assert request.headers["Content-Type"].startswith(content_type)
        as_text = encoding != "json"  # a form carries numbers as text
        assert _legacy_fields(request, encoding) == {
            key: (str(value) if as_text and isinstance(value, int) and not isinstance(value, bool) else value)
            for key, value in fields.items()
        }


@pytest.mark.parametrize("shape", ["flat", "wrapped"])
@pytest.mark.parametrize("call", [c[0] for c in CALLS[:9]], ids=CALL_IDS[:9])
def test_every_create_and_step_returns_the_story_from_either_answer_shape(server, hook, call, shape):
    body = story_body(SID, status="processing", used_credits=75)
    server.default = Reply(body=body if shape == "wrapped" else flat(body))
    story = call(hook)
    assert (story.id, story.status.value, story.used_credits) == (SID, "processing", 75)
    assert len(server.requests) == 1


def test_the_idea_alone_is_the_whole_body(server, hook, version):
    hook.idea_to_video("a fox")
    assert json.loads(server.requests[0].body) == {"idea": "a fox"}


def test_v2_refuses_local_uploads_before_sending(server, hook, version, tmp_path):
    image = tmp_path / "cover.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    if version == "legacy":
        hook.create_storyboard("An idea", image_files=[str(image)])
        assert ("image_files", b"\x89PNG\r\n\x1a\n fake") in server.requests[0].multipart
        return
    with pytest.raises(exc.VimmerseInvalidParameterError, match=r"image_urls.*api_version.*legacy"):
        hook.create_storyboard("An idea", image_files=[str(image)])
    assert server.requests == []


@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "says"),
    [
        (400, {"message": "Invalid story ID format", "code": "BAD_REQUEST"}, exc.VimmerseApiError,
         "BAD_REQUEST", "Invalid story ID format"),
        (400, {"message": "BAD_REQUEST"}, exc.VimmerseApiError, "BAD_REQUEST", "BAD_REQUEST"),
        (402, {"message": "Not enough credits", "code": "INSUFFICIENT_CREDIT"},
         exc.VimmerseInsufficientCreditError, "INSUFFICIENT_CREDIT", "Not enough credits"),
        (402, {"message": "INSUFFICIENT_CREDIT"}, exc.VimmerseInsufficientCreditError, "INSUFFICIENT_CREDIT",
         "Nothing was created"),
        (404, {"message": "Story not found", "code": "NOT_FOUND"}, exc.VimmerseNotFoundError, "NOT_FOUND",
         "Story not found"),
        (422, {"message": "scene_duration: Input should be 5 or 10", "code": "VALIDATION_ERROR"},
         exc.VimmerseApiError, "VALIDATION_ERROR", "scene_duration"),
        (422, {"detail": [{"loc": ["body", "scene_duration"], "msg": "Input should be 5 or 10"}]},
         exc.VimmerseApiError, None, "scene_duration: Input should be 5 or 10"),
    ],
    ids=["v2-400", "legacy-400", "v2-402", "legacy-402", "v2-404", "v2-422", "fastapi-422"],
)  # fmt: skip
def test_every_error_style_maps_to_the_typed_error_with_its_code(server, hook, status, body, cls, code, says):
    server.default = Reply(status=status, body=body)
    with pytest.raises(cls) as raised:
        hook.idea_to_video("a fox")
    assert raised.value.code == code and says in str(raised.value)
    assert len(server.requests) == 1


def test_a_create_whose_answer_is_no_story_may_exist_and_is_not_repeated(server, hook):
    server.default = Reply(body={"ok": True})
    with pytest.raises(exc.VimmerseStoryMayExistError, match="could not be read"):
        hook.idea_to_video("a fox")
    assert len(server.requests) == 1


def test_test_connection_probes_the_chosen_version(server, hook, version):
    server.routes["/health"] = Reply(body={"data": {"status": "ok"}})
    server.default = Reply(status=404, body={"message": "NOT_FOUND"})
    ok, message = hook.test_connection()
    assert ok and f"Story API {version}" in message
    assert server.requests[-1].path == f"{PREFIX[version]}/story/00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize("shape", ["flat", "wrapped"])
async def test_the_async_hook_reads_the_versions_path_in_either_shape(server, version, shape):
    body = story_body(SID, status="success", video_url="https://cdn/v.mp4")
    server.default = Reply(body=body if shape == "wrapped" else flat(body))
    async with VimmerseAsyncHook() as hook:
        story = await hook.get_story(SID)
    assert story.video_url == "https://cdn/v.mp4"
    assert server.requests[0].path == f"{PREFIX[version]}/story/{SID}"


@pytest.mark.parametrize("value", ["v3", "V1", "", "legacy "])
def test_an_unknown_api_version_is_refused_before_any_request(monkeypatch, value):
    with RecordingServer() as srv:
        set_connection(monkeypatch, srv.url, api_version=value)
        if value.strip().lower() in ("", "legacy"):  # empty means the default; case and spaces are forgiven
            VimmerseHook().get_story(SID)
            assert len(srv.requests) == 1
            return
        with pytest.raises(exc.VimmerseConfigurationError, match=r"api_version.*'v2', 'legacy'"):
            VimmerseHook().idea_to_video("a fox")
        ok, message = VimmerseHook().test_connection()
        assert not ok and "api_version" in message
        assert srv.requests == []


def _gzip_bomb(size: int) -> bytes:
    import gzip
    import io

    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as packed:
        chunk = b" " * (1024 * 1024)
        for _ in range(size // len(chunk)):
            packed.write(chunk)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _gzip_bomb(256 * 1024 * 1024)  # ~250 KiB on the wire, 256 MiB unpacked


def test_a_compressed_answer_is_capped_before_it_is_buffered(server, hook, bomb):
    import psutil

    server.default = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    before = psutil.Process().memory_info().rss
    with pytest.raises(exc.VimmerseUnavailableError, match="more than 8 MiB"):
        hook.get_story(SID)
    with pytest.raises(exc.VimmerseStoryMayExistError, match="more than 8 MiB"):
        hook.idea_to_video("a fox")
    assert psutil.Process().memory_info().rss - before < 64 * 1024 * 1024


async def test_the_async_hook_caps_a_compressed_answer_too(server, bomb):
    import psutil

    server.default = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    before = psutil.Process().memory_info().rss
    async with VimmerseAsyncHook() as hook:
        with pytest.raises(exc.VimmerseUnavailableError, match="more than 8 MiB"):
            await hook.get_story(SID)
    assert psutil.Process().memory_info().rss - before < 64 * 1024 * 1024
