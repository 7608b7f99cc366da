"""The one poll decision: every driver (sync wait, trigger, sensor) follows it."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse import _polling as polling
from airflow_provider_vimmerse._polling import PollState, decide
from airflow_provider_vimmerse.exceptions import (
    VimmerseStoryFailedError,
    VimmerseUnavailableError,
    VimmerseWaitError,
    _error_for_event,
)
from airflow_provider_vimmerse.models import VimmerseStory

ERROR = VimmerseUnavailableError("GET /v2/story/s answered HTTP 502.", status_code=502)


def story(status: str, progress: int = 0, video_url: str = "") -> VimmerseStory:
    return VimmerseStory.from_api(
        {"id": "s", "status": status, "progress_percentage": progress, "video_url": video_url}
    )


def run(results, *, deadline=None, poll_interval=10.0, max_poll_errors=2, needs_video=False, step=None):
    """Drive decide() over results like a driver would, with a fake clock; return (decisions, sleeps)."""
    state, now, decisions = PollState(), 0.0, []
    for result in results:
        decision = decide(
            result,
            state,
            now=now,
            deadline=deadline,
            poll_interval=poll_interval,
            max_poll_errors=max_poll_errors,
            needs_video=needs_video,
            story_id="s",
        )
        decisions.append(decision)
        if decision.done:
            break
        state = decision.state
        now += decision.sleep if step is None else step
    return decisions


def test_running_story_sleeps_the_interval_and_logs_only_changes():
    decisions = run([story("processing", 10), story("processing", 10), story("processing", 40)])
    assert [d.sleep for d in decisions] == [10.0, 10.0, 10.0]
    assert [d.progress_changed for d in decisions] == [True, False, True]
    assert not any(d.done for d in decisions)


def test_terminal_statuses_end_the_wait():
    assert run([story("processing"), story("success", 100, "http://v")])[-1].outcome == "success"
    assert run([story("fail")])[-1].outcome == "fail"


def test_failed_polls_back_off_up_to_the_cap_and_end_after_the_limit():
    decisions = run([ERROR] * 5, max_poll_errors=4)
    assert [d.sleep for d in decisions[:4]] == [20.0, 40.0, 80.0, 80.0]
    assert decisions[-1].outcome == "error" and "5 polls in a row" in decisions[-1].message


def test_a_good_poll_resets_the_error_count():
    decisions = run([ERROR, ERROR, story("processing"), ERROR, ERROR, story("success")], max_poll_errors=2)
    assert decisions[-1].outcome == "success"
    assert decisions[2].state.errors == 0


def test_the_deadline_ends_the_wait_and_no_sleep_passes_it():
    decisions = run([story("processing")] * 5, deadline=25.0)
    assert [d.sleep for d in decisions[:3]] == [10.0, 10.0, 5.0]
    assert decisions[-1].outcome == "timeout"


def test_no_deadline_waits_on():
    assert not any(d.done for d in run([story("processing")] * 50))


def test_success_without_video_waits_for_the_video_then_gives_up():
    ok = run([story("success", 100), story("success", 100), story("success", 100, "http://v")], needs_video=True)
    assert ok[-1].outcome == "success" and ok[0].sleep <= polling.VIDEO_POLL_SECONDS
    never = run([story("success", 100)] * 100, needs_video=True)
    assert never[-1].outcome == "no_video"
    assert "no video_url" in never[-1].message


def test_success_is_enough_for_steps_that_make_no_video():
    assert run([story("success", 100)])[-1].outcome == "success"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("fail", VimmerseStoryFailedError),
        ("timeout", VimmerseWaitError),
        ("error", VimmerseUnavailableError),
        ("no_video", VimmerseWaitError),
    ],
)
def test_each_outcome_has_its_error(status, error):
    value = polling.validate_event({"status": status, "story_id": "s", "message": "m", "progress": 5})
    assert isinstance(_error_for_event(value, 60.0), error)


@pytest.mark.parametrize("value", [None, "success", {"status": "done", "story_id": "s"}, {"status": "success"}])
def test_malformed_events_are_refused(value):
    with pytest.raises(VimmerseWaitError):
        polling.validate_event(value)


def test_event_carries_the_story():
    decision = run([story("success", 100, "http://v")])[-1]
    assert polling.event(decision, "s") == {
        "status": "success",
        "story_id": "s",
        "message": "",
        "progress": 100,
        "video_url": "http://v",
    }


def test_a_404_within_the_grace_is_lag_and_after_it_the_story_is_gone():
    from airflow_provider_vimmerse.exceptions import VimmerseNotFoundError

    missing = VimmerseNotFoundError("GET /v2/story/s answered HTTP 404.", status_code=404)
    lag = run([missing, missing, story("processing"), story("success")], max_poll_errors=5, step=10.0)
    lag_with_grace = [
        decide(
            result,
            PollState(started=0.0),
            now=5.0,
            deadline=None,
            poll_interval=10,
            max_poll_errors=5,
            not_found_grace=60,
            story_id="s",
        )
        for result in (missing,)
    ]
    assert lag[0].outcome == "not_found"  # no grace: a 404 ends the wait (the sensor's case)
    assert not lag_with_grace[0].done and lag_with_grace[0].state.errors == 1
    gone = decide(
        missing,
        PollState(started=0.0),
        now=61.0,
        deadline=None,
        poll_interval=10,
        max_poll_errors=5,
        not_found_grace=60,
        story_id="s",
    )
    assert gone.outcome == "not_found"
    value = polling.validate_event(polling.event(gone, "s"))
    assert isinstance(_error_for_event(value, None), VimmerseNotFoundError)


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message, *args):
        self.lines.append(("INFO", message % args))

    def warning(self, message, *args):
        self.lines.append(("WARNING", message % args))


def test_an_unknown_status_is_logged_as_the_service_wrote_it_once():
    log = _Log()
    for decision in run([story("queued_for_render", 5), story("queued_for_render", 5), story("processing", 20)]):
        polling.log_progress(log, "s", decision)
    assert [level for level, _ in log.lines] == ["WARNING", "INFO"]
    assert "'queued_for_render'" in log.lines[0][1] and "processing 20%" in log.lines[1][1]


def test_a_failed_story_is_logged_as_a_warning_with_the_services_message():
    log = _Log()
    failed = VimmerseStory.from_api({"id": "s", "status": "fail", "progress_percentage": 25, "message": "GPU lost"})
    for decision in run([story("processing", 10), failed]):
        polling.log_progress(log, "s", decision)
    assert log.lines[-1] == ("WARNING", "story s: fail 25%: GPU lost")
