"""A sensor that waits for a story to finish: poke, reschedule or deferrable."""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowSkipException, BaseSensorOperator, conf
from airflow.sdk import PokeReturnValue

from airflow_provider_vimmerse.exceptions import TRANSIENT_POLL_ERRORS, VimmerseStoryFailedError
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.operators.story import story_summary
from airflow_provider_vimmerse.story import VimmerseStory, VimmerseStoryStatus

if TYPE_CHECKING:
    from airflow.sdk import Context


class VimmerseStorySensor(BaseSensorOperator):
    """
    Wait until a story reaches ``success``; fail (or skip, with ``soft_fail``) when it reaches ``fail``.

    A status read that fails transiently counts as "not yet" and is tried again at the next poke;
    a rejected key or an unknown story fails the sensor at once.

    :param story_id: the story (templated).
    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param max_poll_errors: consecutive failed polls the trigger tolerates in deferrable mode.
    :return: the story summary (as XCom), like the story operators.
    """

    template_fields: Sequence[str] = ("story_id", "vimmerse_conn_id")
    ui_color = "#f0e6ff"

    def __init__(
        self,
        *,
        story_id: str,
        vimmerse_conn_id: str = VimmerseHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_poll_errors: int = 5,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 30)
        super().__init__(**kwargs)
        self.story_id = story_id
        self.vimmerse_conn_id = vimmerse_conn_id
        self.deferrable = deferrable
        self.max_poll_errors = max_poll_errors

    @cached_property
    def hook(self) -> VimmerseHook:
        return VimmerseHook(self.vimmerse_conn_id)

    def _settle(self, story: VimmerseStory) -> PokeReturnValue | bool:
        if story.status is VimmerseStoryStatus.SUCCESS:
            return PokeReturnValue(is_done=True, xcom_value=story_summary(story))
        if story.status is VimmerseStoryStatus.FAIL:
            error = VimmerseStoryFailedError(story)
            if self.soft_fail:
                raise AirflowSkipException(str(error))
            raise error
        self.log.info("story %s: %s %d%%", story.id, story.status.value, story.progress_percentage)
        return False

    def poke(self, context: Context) -> PokeReturnValue | bool:
        try:
            story = self.hook.get_story(self.story_id)
        except TRANSIENT_POLL_ERRORS as err:
            self.log.warning("Could not read story %s this time (%s); trying again at the next poke.", self.story_id, err)
            return False
        return self._settle(story)

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
                end_time=time.time() + float(self.timeout),
                vimmerse_conn_id=self.vimmerse_conn_id,
                poll_interval=float(self.poke_interval),
                max_poll_errors=self.max_poll_errors,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: settle on the story's final state, or raise the wait error."""
        from airflow_provider_vimmerse.triggers.story import validate_event, wait_error

        event = validate_event(event)
        if event["status"] not in ("success", "fail"):
            raise wait_error(event, float(self.timeout))
        result = self._settle(self.hook.get_story(event["story_id"]))
        return result.xcom_value if isinstance(result, PokeReturnValue) else None
