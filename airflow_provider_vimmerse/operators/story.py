"""
Operators for each story step: an idea, a web page or your images to a video in one call, or
storyboard -> elements -> scenes -> videos -> concat.

Every operator submits its step, pushes the story id to XCom (key ``story_id``) at once, then
waits (in the worker, or deferred to the triggerer) and returns the same JSON summary either way.
A retry of the same task instance reattaches to the story recorded in ``task_state_store``
(Airflow 3.3+) instead of paying for a new one.

Each operator names its endpoint (:mod:`airflow_provider_vimmerse._endpoints`); its constructor
signature (and the typed stub ``story.pyi``) and template fields are derived from that spec.
Arguments the user does not set are not sent, so the service's current defaults apply.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator, conf

from airflow_provider_vimmerse import _config as config
from airflow_provider_vimmerse import _endpoints as api
from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._polling import (
    DEFAULT_MAX_POLL_ERRORS,
    DEFAULT_TIMEOUT,
    MIN_POLL_INTERVAL,
    NOT_FOUND_GRACE_SECONDS,
    SUCCESS,
    validate_event,
)
from airflow_provider_vimmerse._signatures import operator_signature
from airflow_provider_vimmerse.exceptions import _error_for_event
from airflow_provider_vimmerse.hooks._transport import DEFAULT_CONN_ID
from airflow_provider_vimmerse.links.story import VimmerseStoryLink, VimmerseVideoLink
from airflow_provider_vimmerse.models import VimmerseStory, VimmerseStoryStatus
from airflow_provider_vimmerse.operators._resumable import _ResumableStory

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

__all__ = [
    "VimmerseConcatStoryOperator",
    "VimmerseCreateElementsOperator",
    "VimmerseCreateScenesOperator",
    "VimmerseCreateStoryboardOperator",
    "VimmerseCreateVideosOperator",
    "VimmerseIdeaToVideoOperator",
    "VimmerseImagesToVideoOperator",
    "VimmerseStoryOperator",
    "VimmerseUrlToVideoOperator",
]


class VimmerseStoryOperator(_ResumableStory, BaseOperator):
    """
    Base of the story-step operators: submit, record, wait, summarise.

    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param wait_for_completion: wait until the step is done (default True).
    :param poll_interval: seconds between status polls, at least 1 (a ``timedelta`` works too; default
        ``[vimmerse] poll_interval``, 30).
    :param timeout: seconds (or a ``timedelta``) to wait for the story at most (default 6 hours;
        ``None``: no limit). The story is not cancelled when the wait times out.
    :param deferrable: wait in the triggerer instead of a worker slot (default
        ``[operators] default_deferrable``).
    :param reattach_on_retry: on a retry, reuse the story an earlier try of this task instance
        created for the same request, if it did not fail and was not already returned as a success
        (Airflow 3.3+; default True): a cleared, succeeded task creates a new story. Set False to
        pay for a fresh story every try.
    :param max_poll_errors: consecutive failed status polls tolerated before giving up.
    :param extra_params: parameters this provider does not know yet, sent as given.
    :param max_credits: the most this task may spend (templated): when the published pricing
        estimates more, or cannot estimate the step, the task fails before anything is sent
        (see :func:`~airflow_provider_vimmerse.credits.estimate_credits`). Unset: no cap.
    :param credit_pool: an Airflow pool whose slots are credits: the task occupies ``max_credits``
        slots (or its estimate, when its arguments are literal) while it runs, so the scheduler caps
        the credits in flight across every DAG using the pool.
    :param daily_budget: the name of a daily credit budget shared with every task naming it (templated;
        see :class:`~airflow_provider_vimmerse.credits.VimmerseCreditBudget`): the task reserves its
        ``max_credits`` (or estimate) before sending, and fails without sending when they do not fit.
    :param daily_budget_credits: the budget's credits per UTC day (templated; required with ``daily_budget``).
    """

    template_fields: Sequence[str] = (
        "vimmerse_conn_id",
        "extra_params",
        "max_credits",
        "daily_budget",
        "daily_budget_credits",
    )
    template_fields_renderers = {"extra_params": "json", "storyboard": "json", "idea": "md", "elements": "json"}
    operator_extra_links = (VimmerseVideoLink(), VimmerseStoryLink())
    ui_color = "#f0e6ff"
    #: The API operation this operator runs; its arguments become the operator's.
    endpoint: ClassVar[api.Endpoint]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        endpoint = cls.__dict__.get("endpoint")
        if endpoint is None:
            return
        story = ("story_id",) if endpoint.on_story else ()
        cls.template_fields = (*VimmerseStoryOperator.template_fields, *story, *endpoint.argument_names)
        # Every API argument described on the operator itself (templated, like ``story_id``).
        cls.__doc__ = f"{inspect.cleandoc(cls.__doc__ or '')}\n\n{endpoint.parameter_docs()}"
        inherited = cls.__init__

        def __init__(self: VimmerseStoryOperator, **kwargs: Any) -> None:
            inherited(self, **kwargs)

        # Airflow reads the signature for required arguments, default_args and partial()/expand().
        __init__.__signature__ = operator_signature(endpoint, inspect.signature(inherited))  # type: ignore[attr-defined]
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        cls.__init__ = __init__  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        vimmerse_conn_id: str = DEFAULT_CONN_ID,
        wait_for_completion: bool = True,
        poll_interval: float | timedelta | None = None,
        timeout: float | timedelta | None = DEFAULT_TIMEOUT,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        reattach_on_retry: bool = True,
        max_poll_errors: int = DEFAULT_MAX_POLL_ERRORS,
        extra_params: Mapping[str, Any] | str | None = None,
        max_credits: int | str | None = None,
        credit_pool: str | None = None,
        daily_budget: str | None = None,
        daily_budget_credits: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        endpoint = type(self).endpoint
        names = (("story_id",) if endpoint.on_story else ()) + endpoint.argument_names
        arguments = {name: kwargs.pop(name, None) for name in names}
        # A bad literal argument is a DAG import error, not a failed (and maybe retried) task.
        endpoint.check_literals(arguments)
        if credit_pool is not None:
            from airflow_provider_vimmerse.credits import _credit_pool_slots

            if kwargs.get("pool") not in (None, credit_pool):
                raise v.VimmerseInvalidParameterError("pool", kwargs["pool"], "unset when credit_pool is set")
            # The scheduler then caps the credits in flight across every DAG, atomically.
            kwargs.update(pool=credit_pool, pool_slots=_credit_pool_slots(endpoint.name, arguments, max_credits))
        super().__init__(**kwargs)
        for name, value in arguments.items():
            setattr(self, name, value)
        self.vimmerse_conn_id = vimmerse_conn_id
        self.wait_for_completion = wait_for_completion
        # Checked when the DAG is parsed: a wait that cannot work must not start after paying.
        self.poll_interval = (
            config.poll_interval()
            if poll_interval is None
            else v.number("poll_interval", poll_interval, minimum=MIN_POLL_INTERVAL)
        )
        self.timeout = None if timeout is None else v.number("timeout", timeout, minimum=0, exclusive=True)
        self.deferrable = deferrable
        self.reattach_on_retry = reattach_on_retry
        # The mixin's switch: True on Airflow 3.3+ (False in the stand-in for older versions).
        self.durable = self.durable and reattach_on_retry
        self.max_poll_errors = v.integer("max_poll_errors", max_poll_errors, minimum=0)
        if extra_params is not None and not isinstance(extra_params, (Mapping, str)):
            raise v.VimmerseInvalidParameterError("extra_params", extra_params, "a mapping of JSON values")
        self.extra_params = extra_params
        self.max_credits = max_credits
        if daily_budget is not None and daily_budget_credits is None:
            raise v.VimmerseInvalidParameterError("daily_budget_credits", None, "credits per day, with daily_budget")
        self.daily_budget = daily_budget
        self.daily_budget_credits = daily_budget_credits

    @cached_property
    def hook(self) -> VimmerseHook:
        # Imported on first use: DAG parsing never pays for the HTTP stack.
        from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

        return VimmerseHook(self.vimmerse_conn_id)

    def api_arguments(self) -> dict[str, Any]:
        """This step's API arguments as set (rendered) on the operator; unset ones are not sent."""
        arguments = {name: getattr(self, name) for name in self.endpoint.argument_names}
        if getattr(self, "_webhook_url", None):
            arguments["webhook_url"] = self._webhook_url
        return {**arguments, "extra_params": self.extra_params}

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        """Send this step's request (each operator calls its own hook method)."""
        raise NotImplementedError

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        # Both link keys exist from the start, so the UI's link lookup never logs a missing XCom,
        # even for a try that fails before a story exists.
        ti.xcom_push(key="story_url", value="")
        ti.xcom_push(key="video_url", value="")
        # Settings a wait needs are read before anything is paid for: a bad one fails here, for free.
        self._fallback_poll_interval = config.webhook_fallback_poll_interval() if self.deferrable else None
        if self.reattach_on_retry and not self.durable:
            self.log.warning(
                "This Airflow has no task_state_store (it arrived in 3.3): a retry will submit, and pay for, "
                "a new story."
            )
        return self.execute_resumable(context)

    def _wait(self, context: Context, story: VimmerseStory) -> dict[str, Any]:
        """Publish the story's id and links, then wait for it (here or deferred) and summarise it."""
        ti = context["ti"]
        ti.xcom_push(key="story_id", value=story.id)
        ti.xcom_push(key="story_url", value=self._story_url(story.id))
        ti.xcom_push(key="video_url", value=story.video_url)
        if not self.wait_for_completion:
            return story.summary()
        # A step on an existing story may be answered with the previous step's status: only
        # a new story's own answer can say it is already done.
        if (
            not self.endpoint.on_story
            and story.status is VimmerseStoryStatus.SUCCESS
            and (story.video_url or not self.endpoint.produces_video)
        ):
            return self._complete(context, story)
        end_time = self._deadline
        webhook = getattr(self, "_webhook", None)
        fallback = self._fallback_poll_interval if webhook else None
        # One fact per line: these are what a DAG author scans the task log for.
        self.log.info("Waiting for story %s %s.", story.id, "in the triggerer" if self.deferrable else "in this worker")
        if webhook:
            self.log.info("Woken by its webhook, with a fallback poll every %g s.", fallback)
        else:
            self.log.info("Polling every %g s.", self.poll_interval)
        left = "none" if end_time is None else f"{max(0.0, end_time - time.time()):g} s from now"
        self.log.info("Deadline: %s.", left)
        if self.deferrable:
            from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger

            self.defer(
                trigger=VimmerseStoryTrigger(
                    story_id=story.id,
                    end_time=end_time,
                    vimmerse_conn_id=self.vimmerse_conn_id,
                    poll_interval=self.poll_interval,
                    max_poll_errors=self.max_poll_errors,
                    needs_video=self.endpoint.produces_video,
                    not_found_grace=NOT_FOUND_GRACE_SECONDS,
                    webhook_wait_id=webhook.wait_id if webhook else None,
                    fallback_poll_interval=fallback,
                ),
                method_name="execute_complete",
            )
        story = self.hook.wait_for_story(
            story.id,
            poll_interval=self.poll_interval,
            timeout=None if end_time is None else max(0.0, end_time - time.time()),
            max_poll_errors=self.max_poll_errors,
            needs_video=self.endpoint.produces_video,
            not_found_grace=NOT_FOUND_GRACE_SECONDS,
        )
        return self._complete(context, story)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: check the event, then finish like the in-worker wait."""
        event = validate_event(event)
        self._story_id = event["story_id"]
        if event["status"] == SUCCESS:
            return self._complete(context, self.hook.get_story(event["story_id"]))
        raise _error_for_event(event, self.timeout, self._story_if_readable(event["story_id"]))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the story this step wrote (with its bill), what it was made from, and the request."""
        from airflow_provider_vimmerse._lineage import story_lineage

        return story_lineage(self, getattr(self, "_completed", None))

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """OpenLineage for a failed step: the same datasets, without the story's final state."""
        from airflow_provider_vimmerse._lineage import story_lineage

        return story_lineage(self, None)

    def _story_url(self, story_id: str) -> str:
        """The story page's link; a link is a convenience and never fails the task."""
        try:
            return self.hook.story_url(story_id) or ""
        except Exception as err:
            self.log.warning("No story link for %s: %s", story_id, err)
            return ""

    def _story_if_readable(self, story_id: str) -> VimmerseStory | None:
        try:
            return self.hook.get_story(story_id)
        except Exception:  # the wait's outcome is what matters; details are a bonus
            return None

    def _complete(self, context: Context, story: VimmerseStory) -> dict[str, Any]:
        self._completed = story
        took = (
            f" in {(story.updated_at - story.created_at).total_seconds():.0f} s"
            if story.created_at and story.updated_at
            else ""
        )
        from airflow_provider_vimmerse.credits import _check_credit_cap

        # The bill: what the published pricing said next to what the story used.
        estimate = self._estimate = _check_credit_cap(self.endpoint.name, self.api_arguments(), None)
        self.log.info("Story %s finished: %s%s.", story.id, story.status.value, took)
        self.log.info("Video: %s", story.video_url or "none")
        self.log.info(
            "Credits used: %s (estimated: %s).", story.used_credits, "unknown" if estimate is None else estimate
        )
        self._mark_returned(context, story.id)
        self._settle_budget(context, story)
        if story.video_url:
            context["ti"].xcom_push(key="video_url", value=story.video_url)
        for media in story.failed_medias:
            reason = media.get("message") or media.get("item")
            self.log.warning("A scene failed to animate and is missing from the video: %s", reason)
        return {**story.summary(), "estimated_credits": estimate}


class VimmerseIdeaToVideoOperator(VimmerseStoryOperator):
    """
    Turn an idea into a narrated story video in one step (``POST /story/idea-2-video``).

    ``idea`` may name a template file (``.txt``, ``.md``, ``.j2``) next to the DAG. The API
    arguments are those of :meth:`VimmerseHook.idea_to_video
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.idea_to_video>`; see
    :class:`VimmerseStoryOperator` for waiting, retries and results.
    """

    endpoint = api.IDEA_TO_VIDEO
    template_ext = (".txt", ".md", ".j2")

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.idea_to_video(**self.api_arguments())


class VimmerseUrlToVideoOperator(VimmerseStoryOperator):
    """
    Turn a web page (a product page, an article) into a story video (``POST /story/url-2-video``).

    The API arguments are those of :meth:`VimmerseHook.url_to_video
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.url_to_video>`.
    """

    endpoint = api.URL_TO_VIDEO

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.url_to_video(**self.api_arguments())


class VimmerseImagesToVideoOperator(VimmerseStoryOperator):
    """
    Turn your own images into a story video, one scene each (``POST /story/images-2-video``).

    The API arguments are those of :meth:`VimmerseHook.images_to_video
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.images_to_video>`.
    """

    endpoint = api.IMAGES_TO_VIDEO

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.images_to_video(**self.api_arguments())


class VimmerseCreateStoryboardOperator(VimmerseStoryOperator):
    """
    Create a story and its storyboard (``POST /story``, advanced step 1).

    The result's ``storyboard`` is what the next steps take (edited or not). ``idea`` may name a
    template file (``.txt``, ``.md``, ``.j2``). The API arguments are those of
    :meth:`VimmerseHook.create_storyboard <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.create_storyboard>`.
    """

    endpoint = api.CREATE_STORYBOARD
    template_ext = (".txt", ".md", ".j2")

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.create_storyboard(**self.api_arguments())


class VimmerseCreateElementsOperator(VimmerseStoryOperator):
    """
    Generate element images and music for a story's storyboard (``POST /story/{id}/elements``).

    ``story_id`` is templated, e.g. ``"{{ ti.xcom_pull('storyboard', key='story_id') }}"``. The API
    arguments are those of :meth:`VimmerseHook.create_elements
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.create_elements>`.
    """

    endpoint = api.CREATE_ELEMENTS

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.create_elements(self.story_id, **self.api_arguments())


class VimmerseCreateScenesOperator(VimmerseStoryOperator):
    """
    Generate missing scene images and narrations (``POST /story/{id}/scenes``).

    The API arguments are those of :meth:`VimmerseHook.create_scenes
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.create_scenes>`.
    """

    endpoint = api.CREATE_SCENES

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.create_scenes(self.story_id, **self.api_arguments())


class VimmerseCreateVideosOperator(VimmerseStoryOperator):
    """
    Animate the scenes and compose the story video (``POST /story/{id}/videos``).

    The API arguments are those of :meth:`VimmerseHook.create_videos
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.create_videos>`.
    """

    endpoint = api.CREATE_VIDEOS

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.create_videos(self.story_id, **self.api_arguments())


class VimmerseConcatStoryOperator(VimmerseStoryOperator):
    """
    Compose a story's videos into one (``POST /story/{id}/concat``).

    The API arguments are those of :meth:`VimmerseHook.concat_story
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.concat_story>`.
    """

    endpoint = api.CONCAT_STORY

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        return hook.concat_story(self.story_id, **self.api_arguments())
