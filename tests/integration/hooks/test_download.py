"""Video download over real HTTP: streaming, resume, atomicity, and where the API key may go."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError, VimmerseUnavailableError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from tests.conftest import API_KEY, set_connection
from tests.integration.conftest import add_fault, stats
from tests.integration.recording_server import RecordingServer, Reply


@pytest.fixture
def finished_story(sandbox_conn):
    hook = VimmerseHook()
    story = hook.idea_to_video("A lighthouse keeper befriends a whale", scene_count=1)
    return hook.wait_for_story(story.id, poll_interval=1, timeout=60)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_is_complete_and_hashed(finished_story, tmp_path):
    result = VimmerseHook().download_video(finished_story.video_url, str(tmp_path / "out" / "story.mp4"))
    target = tmp_path / "out" / "story.mp4"
    assert result.path == str(target) and result.bytes == target.stat().st_size > 10_000
    assert result.sha256 == _sha(target)
    assert [p.name for p in target.parent.iterdir()] == ["story.mp4"]


def test_dropped_connection_resumes_with_range(sandbox_conn, finished_story, tmp_path):
    clean = VimmerseHook().download_video(finished_story.video_url, str(tmp_path / "clean.mp4"))
    add_fault(sandbox_conn, kind="truncate", endpoint="GET /files/*", fraction=0.4, count=1)
    resumed = VimmerseHook().download_video(finished_story.video_url, str(tmp_path / "resumed.mp4"), chunk_size=4096)
    assert resumed.sha256 == clean.sha256 and resumed.bytes == clean.bytes
    assert stats(sandbox_conn)["requests"]["GET /files/{path}"] == 3


def test_body_that_keeps_breaking_never_lands(sandbox_conn, finished_story, tmp_path):
    add_fault(sandbox_conn, kind="truncate", endpoint="GET /files/*", fraction=0.3, count=None)
    with pytest.raises(VimmerseUnavailableError, match="resumes"):
        VimmerseHook().download_video(finished_story.video_url, str(tmp_path / "out" / "story.mp4"), max_resumes=2)
    assert list((tmp_path / "out").iterdir()) == []


def test_key_goes_to_the_api_host_only(sandbox_conn, finished_story, tmp_path, monkeypatch):
    VimmerseHook().download_video(finished_story.video_url, str(tmp_path / "a.mp4"))
    assert stats(sandbox_conn)["file_requests_with_api_key"] == 1
    with RecordingServer() as cdn:
        cdn.default = Reply(body=b"x" * 5000, headers={"Content-Type": "video/mp4"})
        result = VimmerseHook().download_video(f"{cdn.url}/video.mp4", str(tmp_path / "b.mp4"))
        assert result.bytes == 5000
        assert "X-Api-Key" not in cdn.requests[0].headers


def test_redirect_from_the_api_host_drops_the_key(tmp_path, monkeypatch):
    with RecordingServer() as api, RecordingServer() as cdn:
        set_connection(monkeypatch, api.url)
        api.default = Reply(status=302, headers={"Location": f"{cdn.url}/v.mp4"})
        cdn.default = Reply(body=b"y" * 1000)
        VimmerseHook().download_video(f"{api.url}/files/v.mp4", str(tmp_path / "v.mp4"))
        assert api.requests[0].headers["X-Api-Key"] == API_KEY
        assert "X-Api-Key" not in cdn.requests[0].headers


def test_server_ignoring_range_restarts_from_zero(tmp_path, monkeypatch):
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.default = Reply(body=b"z" * 100, headers={"Content-Length": "100"})
        host.replies = [Reply(body=b"z" * 50, headers={"Content-Length": "100"}, close=True)]
        result = VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"), chunk_size=10)
        # The server ignored Range and sent the whole file again: the download restarts from zero.
        assert result.bytes == 100 and (tmp_path / "v.mp4").read_bytes() == b"z" * 100
        assert host.requests[1].headers["Range"] == "bytes=50-"


def test_http_error_and_non_http_urls(tmp_path, monkeypatch):
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.default = Reply(status=404, body=b"gone")
        with pytest.raises(VimmerseUnavailableError, match="404"):
            VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"))
        with pytest.raises(VimmerseInvalidParameterError, match=r"'url'.*http"):
            VimmerseHook().download_video("file:///etc/passwd", str(tmp_path / "p"))
    assert list(tmp_path.iterdir()) == []


def test_a_url_the_parsers_read_differently_never_gets_the_key(tmp_path, monkeypatch):
    # urlsplit reads the host after "\@" (the API's); urllib3 connects to the host before it.
    with RecordingServer() as api, RecordingServer() as evil:
        set_connection(monkeypatch, api.url)
        evil_port, api_host = evil.url.rsplit(":", 1)[1], api.url.split("//")[1]
        sneaky = f"http://127.0.0.1:{evil_port}\\@{api_host}/files/v.mp4"
        with pytest.raises(VimmerseInvalidParameterError, match="'url'"):
            VimmerseHook().download_video(sneaky, str(tmp_path / "v.mp4"))
        api.default = Reply(status=302, headers={"Location": sneaky})
        with pytest.raises(VimmerseInvalidParameterError, match="'url'"):
            VimmerseHook().download_video(f"{api.url}/files/v.mp4", str(tmp_path / "v.mp4"))
        assert evil.requests == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "url", ["http://user:pw@127.0.0.1:9/v.mp4", "http://127.0.0.1:9/v\x00.mp4", "http://127.0.0.1:9/ v.mp4"]
)
def test_urls_with_credentials_or_control_characters_are_refused(tmp_path, url):
    from airflow_provider_vimmerse._download import safe_url

    with pytest.raises(VimmerseInvalidParameterError, match="'url'") as refused:
        safe_url(url)
    assert "pw" not in str(refused.value)


FILE_A, FILE_B = b"A" * 100, b"B" * 100


def test_a_file_that_changed_between_attempts_is_not_spliced(tmp_path, monkeypatch):
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.replies = [
            Reply(body=FILE_A[:50], headers={"Content-Length": "100", "ETag": '"a"'}, close=True),
            # The file was replaced: a server honouring If-Range sends the new one whole.
            Reply(body=FILE_B, headers={"ETag": '"b"'}),
        ]
        result = VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"), chunk_size=10)
        assert host.requests[1].headers["If-Range"] == '"a"' and host.requests[1].headers["Range"] == "bytes=50-"
    assert (tmp_path / "v.mp4").read_bytes() == FILE_B and result.sha256 == hashlib.sha256(FILE_B).hexdigest()


@pytest.mark.parametrize(
    ("first", "then"),
    [({"ETag": '"a"'}, {"ETag": '"b"'}), ({"Last-Modified": "Mon, 01 Jun 2026 10:00:00 GMT"},
                                          {"Last-Modified": "Tue, 02 Jun 2026 10:00:00 GMT"})],
    ids=["etag", "last-modified"],
)  # fmt: skip
def test_a_206_for_a_replaced_file_restarts_from_zero(tmp_path, monkeypatch, first, then):
    """A server (or cache) that ignores If-Range answers 206 with the rest of the new file: never spliced."""
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.replies = [
            Reply(body=FILE_A[:50], headers={"Content-Length": "100", **first}, close=True),
            Reply(status=206, body=FILE_B[50:], headers={"Content-Range": "bytes 50-99/100", **then}),
            Reply(body=FILE_B, headers=then),
        ]
        result = VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"), chunk_size=10)
        assert "Range" not in host.requests[2].headers
    assert (tmp_path / "v.mp4").read_bytes() == FILE_B and result.sha256 == hashlib.sha256(FILE_B).hexdigest()


def test_a_206_from_the_wrong_offset_restarts_from_zero(tmp_path, monkeypatch):
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.replies = [
            Reply(body=FILE_A[:50], headers={"Content-Length": "100"}, close=True),
            Reply(status=206, body=FILE_A[40:], headers={"Content-Range": "bytes 40-99/100"}),
            Reply(body=FILE_A),
        ]
        VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"), chunk_size=10)
        assert "Range" not in host.requests[2].headers
    assert (tmp_path / "v.mp4").read_bytes() == FILE_A


def test_downloads_ask_for_the_bytes_as_they_are(tmp_path, monkeypatch):
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.default = Reply(body=FILE_A)
        VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"))
        assert host.requests[0].headers["Accept-Encoding"] == "identity"


def test_a_directory_destination_is_refused_before_downloading(tmp_path, monkeypatch):
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        with pytest.raises(VimmerseInvalidParameterError, match="existing directory"):
            VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path))
        assert host.requests == []


def test_a_partial_file_left_by_a_killed_try_is_removed(tmp_path, monkeypatch):
    leftover = tmp_path / ".v.mp4.0123abcd.part"
    leftover.write_bytes(b"half a video")
    with RecordingServer() as host:
        set_connection(monkeypatch, host.url)
        host.default = Reply(body=FILE_A)
        VimmerseHook().download_video(f"{host.url}/v.mp4", str(tmp_path / "v.mp4"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]
