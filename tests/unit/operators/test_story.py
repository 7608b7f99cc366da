"""Story operators without servers: arguments derived from the endpoint spec, and reattach-on-retry."""

from __future__ import annotations

import inspect
import json
import time
from types import SimpleNamespace

import pendulum
import pytest
from airflow.sdk import DAG

from airflow_provider_vimmerse import _endpoints as api
from airflow_provider_vimmerse._webhooks import WebhookToken
from airflow_provider_vimmerse.exceptions import VimmerseNotFoundError, VimmerseUnavailableError
from airflow_provider_vimmerse.models import VimmerseStory
from airflow_provider_vimmerse.operators._resumable import _request_digest
from airflow_provider_vimmerse.operators.story import (
    VimmerseCreateElementsOperator,
    VimmerseIdeaToVideoOperator,
    VimmerseStoryOperator,
    VimmerseUrlToVideoOperator,
)

OPERATORS = [cls for cls in VimmerseStoryOperator.__subclasses__() if "endpoint" in cls.__dict__]
_STATE_KEY = VimmerseStoryOperator.external_id_key
# Airflow's ResumableJobMixin reattaches from 3.3 on (task_state_store); below, its stand-in always submits.
needs_state_store = pytest.mark.skipif(
    not VimmerseIdeaToVideoOperator(task_id="probe", idea="x").durable, reason="task_state_store arrived in Airflow 3.3"
)


class FakeStore:
    """What ``context["task_state_store"]`` offers: get and set (of JSON values)."""

    def __init__(self, **values):
        self.values = dict(values)

    def get(self, key):
        return self.values.get(key)

    def set(self, key, value):
        self.values[key] = value


class FakeHook:
    """Stands in for the API: answers reads from ``stories`` and records what was created."""

    def __init__(self, stories=None, read_error=None):
        self.stories = dict(stories or {})
        self.read_error = read_error
        self.created: list[dict] = []
        self.settings = SimpleNamespace(api_key="vmk-UNIT-key")

    def get_story(self, story_id):
        if self.read_error:
            raise self.read_error
        if story_id not in self.stories:
            raise VimmerseNotFoundError("GET answered 404", status_code=404)
        return self.stories[story_id]

    def idea_to_video(self, **arguments):
        self.created.append(arguments)
        story = VimmerseStory.from_api({"id": f"new-{len(self.created)}", "status": "new"})
        self.stories[story.id] = story
        return story


def _story(story_id, status):
    return VimmerseStory.from_api({"id": story_id, "status": status})


def _operator(hook, **arguments):
    op = VimmerseIdeaToVideoOperator(task_id="t", idea="x", **arguments)
    op.__dict__["hook"] = hook
    return op


def _submit_or_reattach(op, context):
    """What ``execute`` does through Airflow's mixin, with the wait replaced by returning the story."""
    op._wait = lambda _context, story: story
    return op.execute_resumable(context)


def _recorded(story_id="old", *, idea="x", returned=False, created=None, **arguments):
    """What an earlier try stored for a story it created for the request ``idea`` + ``arguments``."""
    digest = _request_digest(api.IDEA_TO_VIDEO, None, {"idea": idea, **arguments, "extra_params": None})
    created = time.time() - 3600 if created is None else created
    return FakeStore(
        **{_STATE_KEY: {"story_id": story_id, "request": digest, "created": created, "returned": returned}}
    )


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_arguments_and_template_fields_come_from_the_endpoint(cls):
    endpoint = cls.endpoint
    signature = inspect.signature(cls.__init__)
    for name in endpoint.argument_names:
        assert name in cls.template_fields
    current = {p.keyword for p in endpoint.params}
    older = set(endpoint.argument_names) - current
    assert current <= set(signature.parameters) and not older & set(signature.parameters)
    # help() and editors show the waiting and retry arguments too, not just **kwargs.
    assert {"deferrable", "timeout", "poll_interval", "max_credits"} <= set(signature.parameters)
    required = {p.keyword for p in endpoint.params if p.required} | ({"story_id"} if endpoint.on_story else set())
    assert {
        n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty and p.kind is p.KEYWORD_ONLY
    } == required


def test_only_the_arguments_the_user_set_are_sent():
    op = VimmerseIdeaToVideoOperator(task_id="t", idea="x", scene_count="2")
    given = {k: v for k, v in op.api_arguments().items() if v is not None}
    assert given == {"idea": "x", "scene_count": "2"}


def test_missing_required_arguments_fail_when_the_dag_is_parsed():
    with pytest.raises(TypeError, match="story_id"):
        VimmerseCreateElementsOperator(task_id="t")
    with pytest.raises(TypeError, match="url"):
        VimmerseUrlToVideoOperator(task_id="t")


def test_partial_and_expand_accept_api_arguments():
    with DAG("d", start_date=pendulum.datetime(2026, 1, 1), schedule=None):
        mapped = VimmerseIdeaToVideoOperator.partial(task_id="m", scene_count=2, aspect_ratio="1:1").expand(
            idea=["a", "b"]
        )
    assert mapped.partial_kwargs["scene_count"] == 2
    with pytest.raises(TypeError, match="scene_cuont"):
        VimmerseIdeaToVideoOperator.partial(task_id="n", scene_cuont=2)


def test_default_args_reach_api_arguments():
    with DAG("d2", start_date=pendulum.datetime(2026, 1, 1), schedule=None, default_args={"aspect_ratio": "9:16"}):
        op = VimmerseIdeaToVideoOperator(task_id="t", idea="x")
    assert op.aspect_ratio == "9:16"


@needs_state_store
def test_a_first_try_submits_and_records_the_story_with_its_request():
    hook, store = FakeHook(), FakeStore()
    story = _submit_or_reattach(_operator(hook), {"task_state_store": store})
    record = store.values[_STATE_KEY]
    assert story.id == "new-1" and record["story_id"] == "new-1" and record["returned"] is False
    assert record["request"] == _request_digest(api.IDEA_TO_VIDEO, None, {"idea": "x", "extra_params": None})


@needs_state_store
@pytest.mark.parametrize("status", ["new", "processing", "success"])
def test_a_retry_reattaches_to_a_story_made_for_the_same_request(status):
    hook = FakeHook({"old": _story("old", status)})
    story = _submit_or_reattach(_operator(hook), {"task_state_store": _recorded()})
    assert story.id == "old" and hook.created == []


@needs_state_store
def test_a_cleared_task_whose_story_was_returned_creates_a_new_one():
    hook = FakeHook({"old": _story("old", "success")})
    story = _submit_or_reattach(_operator(hook), {"task_state_store": _recorded(returned=True)})
    assert story.id == "new-1" and len(hook.created) == 1


@needs_state_store
def test_a_changed_request_creates_a_new_story():
    hook = FakeHook({"old": _story("old", "processing")})
    story = _submit_or_reattach(_operator(hook, scene_count=5), {"task_state_store": _recorded(scene_count=2)})
    assert story.id == "new-1"


@needs_state_store
def test_completing_marks_the_story_as_returned():
    hook, store = FakeHook(), FakeStore()
    op = _operator(hook)
    story = _submit_or_reattach(op, {"task_state_store": store})

    class TI:
        def xcom_push(self, key, value):
            pass

    op._complete({"task_state_store": store, "ti": TI()}, story)
    assert store.values[_STATE_KEY]["returned"] is True


@needs_state_store
def test_a_404_right_after_the_create_is_lag_not_a_missing_story():
    hook = FakeHook({})
    with pytest.raises(VimmerseUnavailableError, match="not readable yet"):
        _submit_or_reattach(_operator(hook), {"task_state_store": _recorded(created=time.time() - 5)})
    assert hook.created == []


@needs_state_store
@pytest.mark.parametrize("stories", [{"old": _story("old", "fail")}, {}], ids=["failed", "deleted"])
def test_a_retry_submits_anew_when_the_old_story_failed_or_is_gone(stories):
    hook, store = FakeHook(stories), _recorded()
    story = _submit_or_reattach(_operator(hook), {"task_state_store": store})
    assert story.id == "new-1" and store.values[_STATE_KEY]["story_id"] == "new-1"


@needs_state_store
def test_a_retry_that_cannot_read_the_old_story_does_not_pay_again():
    hook = FakeHook({"old": _story("old", "processing")}, read_error=VimmerseUnavailableError("502", status_code=502))
    with pytest.raises(VimmerseUnavailableError, match="charged twice"):
        _submit_or_reattach(_operator(hook), {"task_state_store": _recorded()})
    assert hook.created == []


@needs_state_store
def test_reattach_can_be_turned_off():
    hook = FakeHook({"old": _story("old", "processing")})
    op = _operator(hook, reattach_on_retry=False)
    assert _submit_or_reattach(op, {"task_state_store": _recorded()}).id == "new-1"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"poll_interval": 0.5}, "poll_interval"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": -5}, "timeout"),
        ({"max_poll_errors": -1}, "max_poll_errors"),
        ({"poll_interval": "soon"}, "poll_interval"),
    ],
)
def test_wait_parameters_are_checked_when_the_dag_is_parsed(arguments, field):
    from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError

    with pytest.raises(VimmerseInvalidParameterError, match=field):
        VimmerseIdeaToVideoOperator(task_id="t", idea="x", **arguments)


def test_wait_parameters_take_timedeltas_and_no_timeout():
    from datetime import timedelta

    op = VimmerseIdeaToVideoOperator(task_id="t", idea="x", poll_interval=timedelta(seconds=45), timeout=None)
    assert op.poll_interval == 45.0 and op.timeout is None


def test_every_operator_calls_its_own_hook_method():
    methods = {cls.endpoint.name for cls in OPERATORS}
    assert methods == set(api.ENDPOINTS) - {"update_story"}


def test_download_operator_publishes_a_fixed_file_or_one_asset_per_task():
    from airflow.sdk import DAG, Asset

    from airflow_provider_vimmerse.operators.download import VimmerseDownloadVideoOperator

    with DAG("videos", schedule=None):
        fixed = VimmerseDownloadVideoOperator(task_id="fixed", story_id="s", destination="/data/v.mp4")
        templated = VimmerseDownloadVideoOperator(task_id="daily", story_id="s", destination="/data/{{ ds }}.mp4")
        own = VimmerseDownloadVideoOperator(task_id="own", story_id="s", destination="/d/{{ ds }}", outlets=[])
    assert fixed.outlets == [Asset("file:///data/v.mp4")]
    assert templated.outlets == [Asset(name="videos.daily", uri="vimmerse-video://videos/daily")]
    assert own.outlets == []


WEBHOOKS = {"AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL": "https://hooks.example.com/airflow/"}


@needs_state_store
def test_a_deferred_wait_sends_its_own_webhook_url_when_the_triggerer_listens(monkeypatch):
    for name, value in WEBHOOKS.items():
        monkeypatch.setenv(name, value)
    hook, store = FakeHook(), FakeStore()
    op = _operator(hook, deferrable=True)
    _submit_or_reattach(op, {"task_state_store": store})
    sent = hook.created[0]["webhook_url"]
    record = store.values[_STATE_KEY]
    wait_id = record["webhook_wait_id"]
    secret = WebhookToken.for_wait("vmk-UNIT-key", wait_id).secret
    assert sent == f"https://hooks.example.com/airflow/vimmerse/webhook/{wait_id}/{secret}" and len(secret) >= 32
    # Nothing stored opens the webhook: the secret is derived from the API key, never kept.
    assert secret not in json.dumps(record)
    # The digest is of the user's request: a retry reattaches although each try's token differs.
    assert store.values[_STATE_KEY]["request"] == _request_digest(
        api.IDEA_TO_VIDEO, None, {"idea": "x", "extra_params": None}
    )
    retry = _operator(hook, deferrable=True)
    assert _submit_or_reattach(retry, {"task_state_store": store}).id == "new-1" and len(hook.created) == 1
    assert retry._webhook == WebhookToken.for_wait("vmk-UNIT-key", wait_id)


@pytest.mark.parametrize(
    "arguments",
    [{"deferrable": False}, {"deferrable": True, "webhook_url": "https://mine.example.com/hook"}],
    ids=["in-the-worker", "users-own-url"],
)
def test_no_webhook_url_is_added_when_the_wait_cannot_use_it_or_the_user_set_one(monkeypatch, arguments):
    for name, value in WEBHOOKS.items():
        monkeypatch.setenv(name, value)
    hook = FakeHook()
    _submit_or_reattach(_operator(hook, **arguments), {"task_state_store": FakeStore()})
    assert hook.created[0].get("webhook_url") == arguments.get("webhook_url")


def test_no_webhook_url_without_a_public_url(monkeypatch):
    monkeypatch.delenv("AIRFLOW__VIMMERSE__WEBHOOK_PUBLIC_URL", raising=False)
    hook = FakeHook()
    _submit_or_reattach(_operator(hook, deferrable=True), {"task_state_store": FakeStore()})
    assert hook.created[0].get("webhook_url") is None


@needs_state_store
def test_a_reattached_retry_keeps_the_first_tries_deadline():
    first_try = time.time() - 500
    store = _recorded("old", created=first_try)
    store.values[_STATE_KEY]["deadline"] = first_try + 600  # timeout=600 on the first try
    op = _operator(FakeHook({"old": _story("old", "processing")}), timeout=600)
    _submit_or_reattach(op, {"task_state_store": store})
    assert op._deadline == pytest.approx(first_try + 600)  # 100 s left, not a fresh 600
    # A record written before the deadline was kept: derived from when the story was created.
    older = _recorded("old", created=first_try)
    op = _operator(FakeHook({"old": _story("old", "processing")}), timeout=600)
    _submit_or_reattach(op, {"task_state_store": older})
    assert op._deadline == pytest.approx(first_try + 600)


@needs_state_store
def test_a_new_story_records_its_deadline():
    hook, store = FakeHook(), FakeStore()
    before = time.time()
    op = _operator(hook, timeout=60)
    _submit_or_reattach(op, {"task_state_store": store})
    assert before + 60 <= store.values[_STATE_KEY]["deadline"] <= time.time() + 60
