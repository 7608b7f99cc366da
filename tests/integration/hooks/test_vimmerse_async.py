"""VimmerseAsyncHook over real HTTP: same answers, retries and errors as the sync hook."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse import exceptions as exc
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.hooks.vimmerse_async import VimmerseAsyncHook
from airflow_provider_vimmerse.models import VimmerseStoryStatus
from tests.conftest import set_connection
from tests.integration.conftest import add_fault, stats
from tests.integration.recording_server import RecordingServer, Reply, refused_url


@pytest.fixture
def server(monkeypatch):
    with RecordingServer() as srv:
        set_connection(monkeypatch, srv.url, retry_limit=2, retry_delay=0.01)
        yield srv


async def test_get_story_against_the_sandbox(sandbox_conn):
    story = VimmerseHook().create_storyboard("A fox opens a bakery")
    async with VimmerseAsyncHook() as hook:
        seen = await hook.get_story(story.id)
        assert seen.id == story.id


async def test_one_session_for_the_hook_lifetime(server):
    async with VimmerseAsyncHook() as hook:
        for _ in range(4):
            await hook.get_story("s1")
    assert len({r.client_port for r in server.requests}) == 1


async def test_retries_then_typed_errors(server):
    server.replies = [Reply(status=503), Reply(status=429, headers={"Retry-After": "0"})]
    async with VimmerseAsyncHook() as hook:
        assert (await hook.get_story("s1")).status is VimmerseStoryStatus.NEW
        assert len(server.requests) == 3
        server.default = Reply(status=404, body={"message": "NOT_FOUND"})
        with pytest.raises(exc.VimmerseNotFoundError):
            await hook.get_story("s1")
        assert len(server.requests) == 4
        with pytest.raises(exc.VimmerseInvalidParameterError):
            await hook.get_story("a/../b")
        assert len(server.requests) == 4


async def test_reset_connections_are_retried(sandbox_conn):
    story = VimmerseHook().create_storyboard("A snail races a hare")
    add_fault(sandbox_conn, kind="reset", endpoint="GET /v2/story/{story_id}", count=2)
    async with VimmerseAsyncHook() as hook:
        assert (await hook.get_story(story.id)).id == story.id
    assert stats(sandbox_conn)["requests"]["GET /v2/story/{story_id}"] == 3


async def test_unreachable_service_is_a_transport_error(monkeypatch):
    with refused_url() as url:
        set_connection(monkeypatch, url, retry_limit=1)
        async with VimmerseAsyncHook() as hook:
            with pytest.raises(exc.VimmerseUnavailableError):
                await hook.get_story("s1")


async def test_extras_are_settings_not_headers(server, monkeypatch):
    set_connection(monkeypatch, server.url, timeout=5, story_url_template="https://v/{story_id}")
    async with VimmerseAsyncHook() as hook:
        await hook.get_story("s1")
    headers = {k.lower() for k in server.requests[0].headers}
    assert "timeout" not in headers and "story_url_template" not in headers and "x-api-key" in headers


async def test_using_the_hook_outside_its_context_is_an_error():
    with pytest.raises(RuntimeError, match="async with"):
        await VimmerseAsyncHook().get_story("s1")
