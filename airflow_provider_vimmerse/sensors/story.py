"""A sensor that waits for a story to finish: poke, reschedule or deferrable."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowSkipException, BaseSensorOperator, conf
from airflow.sdk import PokeReturnValue

from airflow_provider_vimmerse import _config as config
from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._polling import (
    DEFAULT_MAX_POLL_ERRORS,
    FAIL,
    MIN_POLL_INTERVAL,
    POLL_ERRORS,
    SUCCESS,
    PollState,
    decide,
    event,
    log_progress,
    validate_event,
)
from airflow_provider_vimmerse.exceptions import _error_for_event
from airflow_provider_vimmerse.hooks._transport import DEFAULT_CONN_ID
from airflow_provider_vimmerse.models import VimmerseStory

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

__all__ = ["VimmerseStorySensor"]

_ERRORS_KEY = "vimmerse_sensor_poll_errors"


class VimmerseStorySensor(BaseSensorOperator):
    """
    Wait until a story reaches ``success``; fail (or skip, with ``soft_fail``) when it reaches ``fail``.

    A status read that fails transiently counts as "not yet"; after ``max_poll_errors`` such
    reads in a row the sensor fails, in every mode. A rejected key or a story that does not exist
    fails it at once, without retries.

    :param story_id: the story (templated).
    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param max_poll_errors: consecutive failed polls tolerated.
    :param poke_interval: seconds between status reads, at least 1 (default ``[vimmerse] poll_interval``).
    :return: the story summary (as XCom), like the story operators.
    """

    template_fields: Sequence[str] = ("story_id", "vimmerse_conn_id")
    ui_color = "#f0e6ff"

    def __init__(
        self,
        *,
        story_id: str,
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_poll_errors: int = DEFAULT_MAX_POLL_ERRORS,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("poke_interval") is None:
            kwargs["poke_interval"] = config.poll_interval()
        else:  # the operators' floor, in every mode: a zero interval would poll without pause
            kwargs["poke_interval"] = v.number("poke_interval", kwargs["poke_interval"], minimum=MIN_POLL_INTERVAL)
        super().__init__(**kwargs)
        max_poll_errors = v.integer("max_poll_errors", max_poll_errors, minimum=0)
        self.story_id = story_id
        self.vimmerse_conn_id = vimmerse_conn_id
        self.deferrable = deferrable
        self.max_poll_errors = max_poll_errors
        self._poll_state = PollState()

    @cached_property
    def hook(self) -> VimmerseHook:
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        return VimmerseHook(self.vimmerse_conn_id)

    def poke(self, context: Context) -> PokeReturnValue | bool:
        store = context.get("task_state_store")
        if store is not None:
            # Reschedule mode starts a new process per poke: the error count lives in the store.
            errors = store.get(_ERRORS_KEY)
            self._poll_state = PollState(
                errors=errors if isinstance(errors, int) else 0, progress=self._poll_state.progress
            )
        result: VimmerseStory | Exception
        try:
            result = self.hook.get_story(self.story_id)
        except POLL_ERRORS as err:
            self.log.warning(
                "Could not read story %s this time (%s); trying again at the next poke.", self.story_id, err
            )
            result = err
        decision = decide(
            result,
            self._poll_state,
            now=time.monotonic(),
            deadline=None,
            poll_interval=float(self.poke_interval),
            max_poll_errors=self.max_poll_errors,
            story_id=self.story_id,
        )
        if store is not None and decision.state.errors != self._poll_state.errors:
            store.set(_ERRORS_KEY, decision.state.errors)
        self._poll_state = decision.state
        log_progress(self.log, self.story_id, decision)
        if not decision.done:
            return False
        return self._settle(event(decision, self.story_id), decision.story)

    def _settle(self, value: dict[str, Any], story: VimmerseStory | None) -> PokeReturnValue:
        if value["status"] == SUCCESS and story is not None:
            return PokeReturnValue(is_done=True, xcom_value=story.summary())
        error = _error_for_event(value, float(self.timeout), story)
        if value["status"] == FAIL and self.soft_fail:
            raise AirflowSkipException(str(error))
        raise error

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if result:
            return result.xcom_value if isinstance(result, PokeReturnValue) else None
        from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger

        self.defer(
            trigger=VimmerseStoryTrigger(
                story_id=self.story_id,
                end_time=None if self.timeout is None else time.time() + float(self.timeout),
                vimmerse_conn_id=self.vimmerse_conn_id,
                poll_interval=float(self.poke_interval),
                max_poll_errors=self.max_poll_errors,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: settle on the story's final state, or raise the wait error."""
        value = validate_event(event)
        story = self.hook.get_story(value["story_id"]) if value["status"] in (SUCCESS, FAIL) else None
        return self._settle(value, story).xcom_value
