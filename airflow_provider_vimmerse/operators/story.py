"""
Operators for each story step: idea -> video in one call, or storyboard -> elements -> scenes ->
videos -> concat.

Every operator submits its step, pushes the story id to XCom (key ``story_id``) at once, then
waits (in the worker, or deferred to the triggerer) and returns the same JSON summary either way.
A retry of the same task instance reattaches to the story recorded in ``task_state_store``
(Airflow 3.3+) instead of paying for a new one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, conf

from airflow_provider_vimmerse.exceptions import (
    TRANSIENT_POLL_ERRORS,
    VimmerseNotFoundError,
    VimmersePollingError,
    VimmerseStoryFailedError,
)
from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook
from airflow_provider_vimmerse.links.story import VimmerseStoryLink, VimmerseVideoLink
from airflow_provider_vimmerse.story import VimmerseStory, VimmerseStoryStatus

if TYPE_CHECKING:
    from airflow.sdk import Context

STATE_KEY = "vimmerse_story_id"
DEFAULT_TIMEOUT = 6 * 60 * 60
_warned_no_state_store = False


def story_summary(story: VimmerseStory) -> dict[str, Any]:
    """What a story step returns (and pushes as ``return_value``): JSON only, the same in every mode."""
    summary = story.summary()
    summary["title"] = story.title
    if story.storyboard is not None:
        summary["storyboard"] = story.storyboard
    return summary


class VimmerseStoryOperator(BaseOperator):
    """
    Base of the story-step operators: submit, record, wait, summarise.

    :param vimmerse_conn_id: the ``vimmerse`` connection.
    :param wait_for_completion: wait until the step's story is ``success`` (default True).
    :param poll_interval: seconds between status polls (default 30, like the reference).
    :param timeout: seconds to wait for the story at most (default 6 hours). The story is not
        cancelled when the wait times out.
    :param deferrable: wait in the triggerer instead of a worker slot (default
        ``[operators] default_deferrable``).
    :param reattach_on_retry: on a retry, reuse the story an earlier try created, if it did not
        fail (Airflow 3.3+; default True). Set False to pay for a fresh story every try.
    :param max_poll_errors: consecutive failed status polls tolerated before giving up.
    :param allow_unknown_values: send model, voice or ratio names that are not in the documented
        lists (each is logged as a warning).
    :param extra_params: parameters the reference does not list yet, sent as given.
    """

    template_fields: Sequence[str] = ("vimmerse_conn_id", "extra_params")
    template_fields_renderers = {"extra_params": "json", "storyboard": "json", "idea": "md"}
    operator_extra_links = (VimmerseVideoLink(), VimmerseStoryLink())
    ui_color = "#f0e6ff"
    #: The hook method this step calls, and the operator attributes passed to it by name.
    endpoint: str = ""
    api_params: Sequence[str] = ()

    def __init__(
        self,
        *,
        vimmerse_conn_id: str = VimmerseHook.default_conn_name,
        wait_for_completion: bool = True,
        poll_interval: float = 30.0,
        timeout: float = DEFAULT_TIMEOUT,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        reattach_on_retry: bool = True,
        max_poll_errors: int = 5,
        allow_unknown_values: bool = False,
        extra_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id
        self.wait_for_completion = wait_for_completion
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.deferrable = deferrable
        self.reattach_on_retry = reattach_on_retry
        self.max_poll_errors = max_poll_errors
        self.allow_unknown_values = allow_unknown_values
        self.extra_params = extra_params

    @cached_property
    def hook(self) -> VimmerseHook:
        return VimmerseHook(self.vimmerse_conn_id, allow_unknown_values=self.allow_unknown_values)

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        """Send this step's request; the request is validated before anything is sent."""
        params = {name: getattr(self, name) for name in self.api_params}
        return getattr(hook, self.endpoint)(**params, extra_params=self.extra_params)

    def execute(self, context: Context) -> dict[str, Any]:
        story = self._reattach_or_submit(context)
        ti = context["ti"]
        ti.xcom_push(key="story_id", value=story.id)
        # Both link keys always exist, so the UI's link lookup never logs a missing XCom.
        ti.xcom_push(key="story_url", value=self.hook.story_url(story.id) or "")
        ti.xcom_push(key="video_url", value=story.video_url)
        if not self.wait_for_completion:
            return story_summary(story)
        if story.status is VimmerseStoryStatus.SUCCESS:
            return self._complete(context, story)
        if self.deferrable:
            from airflow_provider_vimmerse.triggers.story import VimmerseStoryTrigger

            self.defer(
                trigger=VimmerseStoryTrigger(
                    story_id=story.id,
                    end_time=time.time() + self.timeout,
                    vimmerse_conn_id=self.vimmerse_conn_id,
                    poll_interval=self.poll_interval,
                    max_poll_errors=self.max_poll_errors,
                ),
                method_name="execute_complete",
            )
        story = self.hook.wait_for_story(
            story.id, poll_interval=self.poll_interval, timeout=self.timeout, max_poll_errors=self.max_poll_errors
        )
        return self._complete(context, story)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: check the event, then finish like the in-worker wait."""
        from airflow_provider_vimmerse.triggers.story import validate_event, wait_error

        event = validate_event(event)
        story_id, status = event["story_id"], event["status"]
        if status == "success":
            return self._complete(context, self.hook.get_story(story_id))
        if status == "fail":
            raise VimmerseStoryFailedError(self._failed_story(story_id, event))
        raise wait_error(event, self.timeout)

    def on_kill(self) -> None:
        # Stopping a story would throw away paid work, and the API offers no cancel: the story
        # keeps rendering, and the next try of this task reattaches to it.
        story_id = getattr(self, "_story_id", None)
        if story_id:
            self.log.warning(
                "Task killed; story %s keeps running on Vimmerse and is not deleted. "
                "A retry of this task will reattach to it.", story_id,
            )

    def _failed_story(self, story_id: str, event: dict[str, Any]) -> VimmerseStory:
        try:
            return self.hook.get_story(story_id)
        except Exception:  # the failure itself is what matters; details are a bonus
            return VimmerseStory(id=story_id, status=VimmerseStoryStatus.FAIL, message=event.get("message") or "")

    def _reattach_or_submit(self, context: Context) -> VimmerseStory:
        store = self._state_store(context)
        if store is not None and (story_id := store.get(STATE_KEY)):
            story = self._previous_story(story_id)
            if story is not None:
                self._story_id = story.id
                return story
        story = self.submit(self.hook)
        self._story_id = story.id
        self.log.info("Submitted story %s (%s).", story.id, self.endpoint)
        if store is not None:
            store.set(STATE_KEY, story.id)
        return story

    def _previous_story(self, story_id: str) -> VimmerseStory | None:
        """The story an earlier try recorded, if it can be reused (not failed, not deleted)."""
        try:
            story = self.hook.get_story(story_id)
        except VimmerseNotFoundError:
            self.log.warning("Story %s from an earlier try no longer exists; submitting a new one.", story_id)
            return None
        except TRANSIENT_POLL_ERRORS as err:
            raise VimmersePollingError(
                f"Could not check story {story_id} from an earlier try ({err}). Not submitting a new story, "
                "which could be charged twice; the next try checks again."
            ) from None
        if story.status is VimmerseStoryStatus.FAIL:
            self.log.warning(
                "Story %s from an earlier try failed (%s); submitting a new one.", story_id, story.message or "no reason given"
            )
            return None
        self.log.info("Reattaching to story %s (%s) from an earlier try; nothing new is charged.", story_id, story.status.value)
        return story

    def _state_store(self, context: Context) -> Any:
        global _warned_no_state_store
        if not self.reattach_on_retry:
            return None
        store = context.get("task_state_store")
        if store is None and not _warned_no_state_store:
            _warned_no_state_store = True
            self.log.warning(
                "This Airflow has no task_state_store (it arrived in 3.3): a retry will submit, and pay for, a new story."
            )
        return store

    def _complete(self, context: Context, story: VimmerseStory) -> dict[str, Any]:
        if story.video_url:
            context["ti"].xcom_push(key="video_url", value=story.video_url)
        if story.failed_medias:
            self.log.warning(
                "Story %s finished, but %d scene(s) failed to animate and are missing from the video: %s",
                story.id, len(story.failed_medias), [m.get("message") or m.get("item") for m in story.failed_medias],
            )
        return story_summary(story)


class VimmerseIdeaToVideoOperator(VimmerseStoryOperator):
    """
    Turn an idea into a narrated story video in one step (``POST /story/idea-2-video``).

    ``idea`` may name a template file (``.txt``, ``.md``, ``.j2``) next to the DAG. Parameters and
    defaults are those of :meth:`VimmerseHook.idea_to_video
    <airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook.idea_to_video>`; see
    :class:`VimmerseStoryOperator` for waiting, retries and results.
    """

    template_fields = (
        *VimmerseStoryOperator.template_fields, "idea", "title", "description", "webhook_url", "scene_count",
        "aspect_ratio", "option", "motion_type", "narrator", "duration", "loop", "seed",
    )
    template_ext = (".txt", ".md", ".j2")
    endpoint = "idea_to_video"
    api_params = (
        "idea", "scene_count", "option", "generate_elements", "aspect_ratio", "seed", "is_transition", "title",
        "description", "visibility_status", "motion_type", "duration", "loop", "enhance_image", "narrator",
        "background_music", "sound_effects", "webhook_url",
    )

    def __init__(
        self,
        *,
        idea: str,
        scene_count: int | str = 3,
        option: str = "FluxKontextPro",
        generate_elements: bool = True,
        aspect_ratio: str = "16:9",
        seed: int | str | None = None,
        is_transition: str = "No",
        title: str = "",
        description: str = "",
        visibility_status: str = "1",
        motion_type: str = "Auto",
        duration: int | str = 5,
        loop: int | str = 1,
        enhance_image: bool = True,
        narrator: str = "Rachel",
        background_music: bool = True,
        sound_effects: str = "No",
        webhook_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.idea, self.scene_count, self.option, self.generate_elements = idea, scene_count, option, generate_elements
        self.aspect_ratio, self.seed, self.is_transition, self.title = aspect_ratio, seed, is_transition, title
        self.description, self.visibility_status, self.motion_type = description, visibility_status, motion_type
        self.duration, self.loop, self.enhance_image, self.narrator = duration, loop, enhance_image, narrator
        self.background_music, self.sound_effects, self.webhook_url = background_music, sound_effects, webhook_url


class VimmerseCreateStoryboardOperator(VimmerseStoryOperator):
    """
    Create a story and its storyboard from an idea (``POST /story``, advanced step 1).

    The result's ``storyboard`` is what the next steps take (edited or not). ``idea`` may name
    a template file (``.txt``, ``.md``, ``.j2``).
    """

    template_fields = (*VimmerseStoryOperator.template_fields, "idea", "title", "scene_count")
    template_ext = (".txt", ".md", ".j2")
    endpoint = "create_storyboard"
    api_params = ("idea", "scene_count", "title")

    def __init__(self, *, idea: str, scene_count: int | str = 3, title: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idea, self.scene_count, self.title = idea, scene_count, title


class _StoryStepOperator(VimmerseStoryOperator):
    """A step on an existing story: takes ``story_id`` (templated) and passes it first."""

    def __init__(self, *, story_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.story_id = story_id

    def submit(self, hook: VimmerseHook) -> VimmerseStory:
        params = {name: getattr(self, name) for name in self.api_params}
        return getattr(hook, self.endpoint)(self.story_id, **params, extra_params=self.extra_params)


class VimmerseCreateElementsOperator(_StoryStepOperator):
    """
    Generate element images and music for a story's storyboard (``POST /story/{id}/elements``).

    :param story_id: the story (templated), e.g. ``"{{ ti.xcom_pull('storyboard', key='story_id') }}"``.
    :param storyboard: an edited storyboard (dict or JSON, templated); elements with ``image_url`` are kept.
    """

    template_fields = (*VimmerseStoryOperator.template_fields, "story_id", "storyboard", "aspect_ratio", "option", "seed")
    endpoint = "create_elements"
    api_params = ("option", "seed", "aspect_ratio", "storyboard", "enhance_image", "background_music")

    def __init__(
        self,
        *,
        option: str = "FluxKontextPro",
        seed: int | str | None = None,
        aspect_ratio: str = "9:16",
        storyboard: Mapping[str, Any] | str | None = None,
        enhance_image: bool = False,
        background_music: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.option, self.seed, self.aspect_ratio, self.storyboard = option, seed, aspect_ratio, storyboard
        self.enhance_image, self.background_music = enhance_image, background_music


class VimmerseCreateScenesOperator(_StoryStepOperator):
    """
    Generate missing scene images and narrations (``POST /story/{id}/scenes``).

    :param story_id: the story (templated).
    :param storyboard: an edited storyboard (dict or JSON, templated); scenes with ``image_url`` are kept.
    """

    template_fields = (
        *VimmerseStoryOperator.template_fields, "story_id", "storyboard", "aspect_ratio", "option", "narrator", "seed",
    )
    endpoint = "create_scenes"
    api_params = (
        "option", "seed", "aspect_ratio", "storyboard", "enhance_image", "generate_elements", "narrator", "background_music",
    )

    def __init__(
        self,
        *,
        option: str = "FluxKontextPro",
        seed: int | str | None = None,
        aspect_ratio: str = "16:9",
        storyboard: Mapping[str, Any] | str | None = None,
        enhance_image: bool = True,
        generate_elements: bool = True,
        narrator: str = "Rachel",
        background_music: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.option, self.seed, self.aspect_ratio, self.storyboard = option, seed, aspect_ratio, storyboard
        self.enhance_image, self.generate_elements = enhance_image, generate_elements
        self.narrator, self.background_music = narrator, background_music


class VimmerseCreateVideosOperator(_StoryStepOperator):
    """
    Animate the scenes and compose the story video (``POST /story/{id}/videos``).

    :param story_id: the story (templated).
    :param storyboard: an edited storyboard (dict or JSON, templated).
    :param scenes: per-scene inputs ``[{"image_url", "prompt", "narration_url"}]`` (templated).
    """

    template_fields = (
        *VimmerseStoryOperator.template_fields, "story_id", "title", "storyboard", "scenes", "webhook_url",
        "motion_type", "duration", "loop",
    )
    endpoint = "create_videos"
    api_params = (
        "title", "storyboard", "scenes", "is_transition", "motion_type", "duration", "loop", "sound_effects", "webhook_url",
    )

    def __init__(
        self,
        *,
        title: str = "",
        storyboard: Mapping[str, Any] | str | None = None,
        scenes: list[Mapping[str, Any]] | str | None = None,
        is_transition: str = "No",
        motion_type: str = "Auto",
        duration: int | str = 5,
        loop: int | str = 1,
        sound_effects: str = "No",
        webhook_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.title, self.storyboard, self.scenes, self.is_transition = title, storyboard, scenes, is_transition
        self.motion_type, self.duration, self.loop = motion_type, duration, loop
        self.sound_effects, self.webhook_url = sound_effects, webhook_url


class VimmerseConcatStoryOperator(_StoryStepOperator):
    """
    Compose a story's videos into one (``POST /story/{id}/concat``).

    :param story_id: the story (templated).
    :param concat_video_urls: videos to compose instead of the story's own (templated).
    :param audio_urls: background audio for the composed video (templated).
    """

    template_fields = (*VimmerseStoryOperator.template_fields, "story_id", "concat_video_urls", "audio_urls")
    endpoint = "concat_story"
    api_params = ("concat_video_urls", "audio_urls")

    def __init__(
        self, *, concat_video_urls: list[str] | None = None, audio_urls: list[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.concat_video_urls, self.audio_urls = concat_video_urls, audio_urls
