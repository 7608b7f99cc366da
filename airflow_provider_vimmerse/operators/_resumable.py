"""
Reattach on retry, through Airflow's ``ResumableJobMixin``: the story operators' stricter rules.

The mixin (the Task SDK's on Airflow 3.3+, a stand-in below that always submits) keeps the
"job id" in ``task_state_store`` and asks the operator about it on the next try. Ours is a record,
not a bare id, because a story may be reused only when all of these hold:

- it was made for the **same request** (a digest of the endpoint, story and arguments);
- it was **not already returned** as a success (a cleared task creates a new story);
- it did not fail and was not deleted; a 404 within :data:`NOT_FOUND_GRACE_SECONDS` of its creation
  is the service's read-after-write lag, so the try fails (and is retried) rather than paying twice;
- the wait keeps the **first try's deadline** and webhook wait id, in the worker or deferred.

The mixin's "already succeeded, skip the wait" branch is not used: a story that says ``success``
may still be waiting for its video, so a reattached story always goes through the same wait.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import ResumableJobMixin

from airflow_provider_vimmerse import _config as config
from airflow_provider_vimmerse._polling import NOT_FOUND_GRACE_SECONDS
from airflow_provider_vimmerse._webhooks import WebhookToken
from airflow_provider_vimmerse.exceptions import (
    VimmerseInvalidParameterError,
    VimmerseNotFoundError,
    VimmerseStoryMayExistError,
    VimmerseUnavailableError,
)
from airflow_provider_vimmerse.models import VimmerseStory, VimmerseStoryStatus

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_vimmerse._endpoints import Endpoint
    from airflow_provider_vimmerse.credits import VimmerseCreditBudget
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

#: Why a recorded story is not reused (statuses of our own, next to the service's).
_RETURNED, _OTHER_REQUEST, _GONE = "returned", "other_request", "gone"
_REUSABLE = frozenset(status.value for status in VimmerseStoryStatus) - {VimmerseStoryStatus.FAIL.value}


def _request_digest(endpoint: Endpoint, story_id: Any, arguments: Mapping[str, Any]) -> str:
    """A fingerprint of a step's request: a retry reattaches only to a story made for the same one."""
    given = {name: value for name, value in arguments.items() if value is not None}
    text = json.dumps(
        {"endpoint": endpoint.name, "story_id": story_id, "arguments": given}, sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _holder(context: Context) -> str:
    """This task instance, as a daily budget knows its reservation (its retries share one)."""
    ti = context["ti"]
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{getattr(ti, 'map_index', -1)}"


class _ResumableStory(ResumableJobMixin):
    """The mixin's hooks for a story step; the operator supplies the request, the wait and the result."""

    external_id_key = "vimmerse_story"

    if TYPE_CHECKING:
        endpoint: Endpoint
        hook: VimmerseHook
        timeout: float | None
        deferrable: bool
        wait_for_completion: bool
        _deadline: float | None
        _webhook: WebhookToken | None
        _story_id: str
        vimmerse_conn_id: str
        daily_budget_credits: int | str

        def api_arguments(self) -> dict[str, Any]: ...
        def submit(self, hook: VimmerseHook) -> VimmerseStory: ...
        def _wait(self, context: Context, story: VimmerseStory) -> Any: ...

    def _digest(self) -> str:
        return _request_digest(self.endpoint, getattr(self, "story_id", None), self.api_arguments())

    def _deadline_from(self, start: float) -> float | None:
        """The wait's absolute deadline (seconds since the epoch) for a story submitted at ``start``."""
        return None if self.timeout is None else start + self.timeout

    # -- ResumableJobMixin ------------------------------------------------------------------

    def submit_job(self, context: Context) -> dict[str, Any]:
        """Check the credit cap, send the request, and return the record the next try reads."""
        from airflow_provider_vimmerse.credits import _check_credit_cap

        max_credits = getattr(self, "max_credits", None)
        estimate = _check_credit_cap(self.endpoint.name, self.api_arguments(), max_credits)
        # Of the user's request: a retry reattaches although each try's webhook token differs.
        digest = self._digest()
        budget = self._reserve_budget(context, estimate if max_credits is None else int(max_credits))
        token, self._webhook_url = self._new_webhook()
        self._webhook = token
        try:
            story = self.submit(self.hook)
        except VimmerseStoryMayExistError:
            raise  # it may have been charged: the reservation stays
        except Exception:
            if budget is not None:
                budget._release(_holder(context))
            raise
        submitted_at = time.time()
        self._deadline = self._deadline_from(submitted_at)
        self._story_id = story.id
        self._story = story
        if self.endpoint.on_story:
            self.log.info("Submitted %s on story %s.", self.endpoint.name, story.id)
        else:
            self.log.info("Created story %s (%s).", story.id, self.endpoint.name)
        # Only the wait id: its secret is derived from the API key, so nothing stored opens the webhook.
        return {
            "story_id": story.id,
            "request": digest,
            "created": submitted_at,
            "deadline": self._deadline,
            "returned": False,
            "webhook_wait_id": token.wait_id if token else None,
        }

    def get_job_status(self, external_id: Any, context: Context) -> str:
        """The recorded story's status, or why it cannot be reused (then a new one is submitted)."""
        record = external_id if isinstance(external_id, dict) and external_id.get("story_id") else None
        if record is None:
            return _GONE
        if record.get("returned"):
            self.log.info(
                "Story %s was already returned as this task's result; this run (the task was cleared) "
                "creates a new story.",
                record["story_id"],
            )
            return _RETURNED
        if record.get("request") not in (None, self._digest()):
            self.log.info(
                "Story %s was made for a different request (the parameters changed); creating a new story.",
                record["story_id"],
            )
            return _OTHER_REQUEST
        story = self._previous_story(record)
        if story is None:
            return _GONE
        self._story, self._story_id = story, story.id
        # The wait's deadline is the first try's: a retry does not get a fresh timeout.
        self._deadline = record.get("deadline", self._deadline_from(record.get("created") or time.time()))
        wait_id = record.get("webhook_wait_id")
        self._webhook = (
            WebhookToken.for_wait(self.hook.settings.api_key, wait_id).masked() if wait_id and self.deferrable else None
        )
        return story.status.value

    def is_job_active(self, status: str) -> bool:
        return status in _REUSABLE

    def is_job_succeeded(self, status: str) -> bool:
        # A story that says ``success`` still goes through the wait (its video may be missing).
        return False

    def poll_until_complete(self, external_id: Any, context: Context) -> Any:
        self._result = self._wait(context, self._story)
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> Any:
        return self._result

    # -- our rules ----------------------------------------------------------------------------

    def on_kill(self) -> None:
        # Stopping a story would throw away paid work, and the API offers no cancel: the story
        # keeps rendering, and the next try of this task reattaches to it.
        story_id = getattr(self, "_story_id", None)
        if story_id:
            self.log.warning(
                "Task killed; story %s keeps running on Vimmerse and is not deleted. "
                "A retry of this task will reattach to it.",
                story_id,
            )

    def _new_webhook(self) -> tuple[WebhookToken | None, str | None]:
        """
        A token for this wait's webhook and the URL that carries it, when the triggerer listens for
        them: a deferred wait on a request that takes a ``webhook_url`` the user did not set, with
        ``[vimmerse] webhook_public_url``. ``(None, None)`` otherwise.
        """
        if not (self.deferrable and self.wait_for_completion and self.endpoint.takes_webhook):
            return None, None
        public_url = config.webhook_public_url()
        if getattr(self, "webhook_url", None) or not public_url:
            return None, None
        token = WebhookToken.for_wait(self.hook.settings.api_key, conn_id=self.vimmerse_conn_id).masked()
        return token, token.url(public_url)

    def _previous_story(self, record: dict[str, Any]) -> VimmerseStory | None:
        """The story an earlier try recorded, if it can be reused (not failed, not deleted)."""
        story_id = record["story_id"]
        try:
            story = self.hook.get_story(story_id)
        except VimmerseNotFoundError:
            age = time.time() - (record.get("created") or 0)
            if age < NOT_FOUND_GRACE_SECONDS:
                raise VimmerseUnavailableError(
                    f"Story {story_id}, created {age:.0f}s ago by an earlier try, is not readable yet (HTTP 404: "
                    "the service may still be storing it). Not creating a second story; the next try checks again."
                ) from None
            self.log.warning(
                "Story %s from an earlier try answers 404 %.0fs after it was created: it was deleted. "
                "Creating a new story.",
                story_id,
                age,
            )
            return None
        except VimmerseUnavailableError as err:
            raise VimmerseUnavailableError(
                f"Could not check story {story_id} from an earlier try ({err}). Not submitting a new story, "
                "which could be charged twice; the next try checks again."
            ) from None
        if story.status is VimmerseStoryStatus.FAIL:
            self.log.warning(
                "Story %s from an earlier try failed (%s); submitting a new one.",
                story_id,
                story.message or "no reason given",
            )
            return None
        self.log.info(
            "Reattaching to story %s (%s) from an earlier try; nothing new is charged.", story_id, story.status.value
        )
        return story

    def _budget(self) -> VimmerseCreditBudget | None:
        """The daily budget this task names, if any."""
        from airflow_provider_vimmerse.credits import VimmerseCreditBudget

        name = getattr(self, "daily_budget", None)
        # An operator with a daily_budget has daily_budget_credits (checked in its constructor).
        return VimmerseCreditBudget(name, self.daily_budget_credits) if name else None

    def _reserve_budget(self, context: Context, credits: int | None) -> VimmerseCreditBudget | None:
        """Reserve this story's credits in the task's daily budget, if it names one (before sending)."""
        budget = self._budget()
        if budget is None:
            return None
        if credits is None:
            raise VimmerseInvalidParameterError(
                "daily_budget", budget.name, "a step the published pricing can estimate, or max_credits set"
            )
        left = budget._reserve(_holder(context), credits)
        self.log.info(
            "Reserved %d credits in daily budget %r (%d of %d left today, UTC).",
            credits,
            budget.name,
            left,
            budget.daily_credits,
        )
        return budget

    def _settle_budget(self, context: Context, story: VimmerseStory) -> None:
        """Replace this task's reservation in its daily budget with what the story used."""
        budget = self._budget()
        if budget is not None:
            budget._settle(_holder(context), story.used_credits)

    def _mark_returned(self, context: Context, story_id: str) -> None:
        """Handed downstream: a later run of this task instance (a clear) makes a new story."""
        store = context.get("task_state_store") if self.durable else None
        if store is None:
            return
        record = store.get(self.external_id_key)
        if isinstance(record, dict) and record.get("story_id") == story_id:
            store.set(self.external_id_key, {**record, "returned": True})
