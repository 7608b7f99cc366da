"""
Hooks for the Vimmerse Story API: :class:`VimmerseHook` (sync, requests) and
:class:`VimmerseAsyncHook` (async, aiohttp, for triggers).

Why not ``HttpHook`` / ``HttpAsyncHook`` from the http provider: they open a new session per
call (no keep-alive across polls), turn unknown connection extras into HTTP headers (ours are
settings, not headers), and retry every method alike, which could bill a story twice. These
hooks keep one session per instance and share one retry policy and error mapping
(:mod:`airflow_provider_vimmerse.hooks.policy`) between the two transports.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook
from airflow_provider_vimmerse import params as p
from airflow_provider_vimmerse.exceptions import (
    TRANSIENT_POLL_ERRORS,
    VimmerseError,
    VimmersePollingError,
    VimmerseStoryFailedError,
    VimmerseWaitTimeoutError,
)
from airflow_provider_vimmerse.hooks.policy import (
    ConnectionSettings,
    Failure,
    data_from_body,
    next_retry,
    story_from_body,
)
from airflow_provider_vimmerse.story import VimmerseStory, VimmerseStoryStatus

if TYPE_CHECKING:
    import requests

    from airflow_provider_vimmerse.hooks.download import DownloadResult

API_KEY_HEADER = "X-Api-Key"
_CONNECTION_PROBE_ID = "vimmerse-connection-test"


def _requests_failure(err: requests.RequestException) -> Failure:
    from requests.exceptions import ConnectTimeout, ReadTimeout
    from urllib3.exceptions import NewConnectionError

    if isinstance(err, ConnectTimeout):
        return Failure.CONNECT
    if isinstance(err, ReadTimeout):
        return Failure.TIMEOUT
    reason = getattr(err.args[0], "reason", None) if err.args else None
    if isinstance(reason, (NewConnectionError, ConnectionRefusedError)):
        return Failure.CONNECT
    return Failure.DISCONNECT


class _VimmerseHookBase(BaseHook):
    """Connection attributes shared by both hooks."""

    conn_name_attr = "vimmerse_conn_id"
    default_conn_name = "vimmerse_default"
    conn_type = "vimmerse"
    hook_name = "Vimmerse"

    def __init__(self, vimmerse_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id

    def _log_retry(self, method: str, path: str, why: str, delay: float, attempt: int, limit: int) -> None:
        self.log.warning("%s %s: %s; retry %d/%d in %.1fs.", method, path, why, attempt + 1, limit, delay)


class VimmerseHook(_VimmerseHookBase):
    """
    Calls the Vimmerse Story API.

    The connection's password is the API key; its host defaults to ``https://api.vimmerse.net``.
    Extras: ``timeout``, ``connect_timeout``, ``retry_limit``, ``retry_delay``,
    ``max_retry_delay``, ``verify_ssl``, ``story_url_template``.

    Every method validates its parameters before sending anything, and returns a
    :class:`~airflow_provider_vimmerse.story.VimmerseStory`.

    :param vimmerse_conn_id: the ``vimmerse`` connection to use.
    :param allow_unknown_values: send option/motion_type/narrator/aspect_ratio values that are not
        in the documented lists (a warning is logged for each).
    """

    def __init__(
        self, vimmerse_conn_id: str = _VimmerseHookBase.default_conn_name, *, allow_unknown_values: bool = False
    ) -> None:
        super().__init__(vimmerse_conn_id)
        self.allow_unknown_values = allow_unknown_values
        self._sleep: Callable[[float], None] = time.sleep

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection's settings (read once per hook)."""
        return ConnectionSettings.from_connection(self.get_connection(self.vimmerse_conn_id))

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session for this hook; the API key is added per request, never to the session."""
        import requests  # imported on first use: DAG files that only build operators never pay for it

        settings = self.settings
        session = requests.Session()
        # requests re-reads proxy, netrc and CA-bundle environment variables on every call, which
        # costs more than the request itself on a fast network: read them once per hook instead.
        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(settings.base_url)
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        session.verify = (ca_bundle or True) if settings.verify_ssl else False
        return session

    def get_conn(self) -> requests.Session:
        """Return the hook's HTTP session."""
        return self.session

    def close(self) -> None:
        """Close the HTTP session."""
        if "session" in self.__dict__:
            self.session.close()
            del self.__dict__["session"]

    def __enter__(self) -> VimmerseHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- transport

    def _request(self, method: str, path: str, form: p.FormItems | None = None, *, charges: bool = False) -> bytes:
        """Send one API request with the retry policy; return the 2xx body or raise the typed error."""
        import requests

        settings = self.settings
        policy = settings.retry
        session = self.session
        # Sent through the session's adapter (its keep-alive pool) without Session.request's
        # per-call cookie, hook and settings merging, none of which an API-key call needs.
        request = requests.Request(
            method, settings.base_url + path, data=form,
            headers={API_KEY_HEADER: settings.api_key, "Accept": "application/json"},
        ).prepare()
        adapter = session.get_adapter(request.url)
        attempt = 0
        while True:
            try:
                response = adapter.send(
                    request, timeout=(settings.connect_timeout, settings.timeout), verify=session.verify,
                    proxies=session.proxies,
                )
                body = response.content
            except requests.RequestException as err:
                delay, why = next_retry(
                    policy, attempt, method=method, path=path, charges=charges,
                    failure=_requests_failure(err), cause=type(err).__name__,
                )
            else:
                if response.status_code < 300:
                    return body
                delay, why = next_retry(
                    policy, attempt, method=method, path=path, charges=charges, status=response.status_code,
                    body=body, retry_after=response.headers.get("Retry-After"),
                )
            self._log_retry(method, path, why, delay, attempt, policy.retry_limit)
            self._sleep(delay)
            attempt += 1

    def _story(self, method: str, path: str, form: p.FormItems | None = None, *, charges: bool = False) -> VimmerseStory:
        return story_from_body(self._request(method, path, form, charges=charges), method=method, path=path)

    def _choice(self, field: str, value: Any, allowed: tuple[str, ...]) -> str:
        return p.choice(field, value, allowed, allow_unknown=self.allow_unknown_values)

    def _image_fields(
        self, options: tuple[str, ...], *, option: str, seed: Any, aspect_ratio: str,
        storyboard: Mapping[str, Any] | str | None, enhance_image: bool, background_music: bool,
    ) -> dict[str, str | None]:
        """The fields the image steps (elements, scenes) share, checked."""
        return {
            "option": self._choice("option", option, options),
            "seed": None if seed is None else p.integer("seed", seed, 0),
            "aspect_ratio": self._choice("aspect_ratio", aspect_ratio, p.ASPECT_RATIOS),
            "storyboard": None if storyboard is None else p.storyboard(storyboard),
            "enhance_image": p.boolean("enhance_image", enhance_image),
            "background_music": p.boolean("background_music", background_music),
        }

    # ----------------------------------------------------------------------------- endpoints

    def idea_to_video(
        self,
        idea: str,
        *,
        scene_count: int = 3,
        option: str = "FluxKontextPro",
        generate_elements: bool = True,
        aspect_ratio: str = "16:9",
        seed: int | None = None,
        is_transition: str = "No",
        title: str = "",
        description: str = "",
        visibility_status: str = "1",
        motion_type: str = "Auto",
        duration: int = 5,
        loop: int = 1,
        enhance_image: bool = True,
        narrator: str = "Rachel",
        background_music: bool = True,
        sound_effects: str = "No",
        webhook_url: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> VimmerseStory:
        """
        Create a story and its video from an idea in one call (``POST /story/idea-2-video``).

        :param idea: what the story is about (non-empty).
        :param scene_count: number of scenes, >= 1.
        :param option: image model, one of :data:`~airflow_provider_vimmerse.params.IMAGE_OPTIONS`.
        :param generate_elements: generate element images for character consistency.
        :param aspect_ratio: one of ``16:9``, ``4:3``, ``1:1``, ``3:4``, ``9:16``.
        :param seed: image generation seed.
        :param is_transition: ``"Yes"`` to add transition images.
        :param title: story title.
        :param description: story description.
        :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public.
        :param motion_type: animation model, one of :data:`~airflow_provider_vimmerse.params.MOTION_TYPES`.
        :param duration: seconds per scene, 1..10.
        :param loop: repetitions of the motion, 1..6 (ignored when narrated).
        :param enhance_image: apply 1x super-resolution.
        :param narrator: voice, one of :data:`~airflow_provider_vimmerse.params.NARRATORS`.
        :param background_music: add background music.
        :param sound_effects: ``"Yes"`` or ``"No"``.
        :param webhook_url: http(s) URL the service POSTs to when the story finishes.
        :param extra_params: parameters the reference does not list yet, sent as given.
        :return: the new story (usually ``new`` or ``processing``).
        """
        fields = {
            "idea": p.idea(idea),
            "title": p.text("title", title),
            "description": p.text("description", description),
            "scene_count": p.integer("scene_count", scene_count, 1),
            "option": self._choice("option", option, p.IMAGE_OPTIONS),
            "generate_elements": p.boolean("generate_elements", generate_elements),
            "aspect_ratio": self._choice("aspect_ratio", aspect_ratio, p.ASPECT_RATIOS),
            "seed": None if seed is None else p.integer("seed", seed, 0),
            "is_transition": p.yes_no("is_transition", is_transition),
            "visibility_status": p.choice("visibility_status", str(visibility_status), p.VISIBILITY_STATUSES),
            "motion_type": self._choice("motion_type", motion_type, p.MOTION_TYPES),
            "duration": p.integer("duration", duration, *p.DURATION_RANGE),
            "loop": p.integer("loop", loop, *p.LOOP_RANGE),
            "enhance_image": p.boolean("enhance_image", enhance_image),
            "narrator": self._choice("narrator", narrator, p.NARRATORS),
            "background_music": p.boolean("background_music", background_music),
            "sound_effects": p.yes_no("sound_effects", sound_effects),
            "webhook_url": None if webhook_url is None else p.http_url("webhook_url", webhook_url),
        }
        return self._story("POST", "/story/idea-2-video", p.form(fields, extra_params), charges=True)

    def create_storyboard(
        self, idea: str, *, scene_count: int = 3, title: str = "", extra_params: Mapping[str, Any] | None = None
    ) -> VimmerseStory:
        """
        Create a story and its storyboard from an idea (``POST /story``, advanced step 1).

        :param idea: what the story is about (non-empty).
        :param scene_count: number of scenes, >= 1.
        :param title: story title (the live service accepts it, as the reference's example shows).
        :param extra_params: parameters the reference does not list yet.
        """
        fields = {
            "idea": p.idea(idea),
            "scene_count": p.integer("scene_count", scene_count, 1),
            "title": p.text("title", title),
        }
        return self._story("POST", "/story", p.form(fields, extra_params), charges=True)

    def create_elements(
        self,
        story_id: str,
        *,
        option: str = "FluxKontextPro",
        seed: int | None = None,
        aspect_ratio: str = "9:16",
        storyboard: Mapping[str, Any] | str | None = None,
        enhance_image: bool = False,
        background_music: bool = True,
        extra_params: Mapping[str, Any] | None = None,
    ) -> VimmerseStory:
        """
        Generate element images and music for a storyboard (``POST /story/{id}/elements``, step 1.5).

        Defaults follow the reference for this step (``aspect_ratio="9:16"``, ``enhance_image=False``).

        :param story_id: the story.
        :param option: image model, one of :data:`~airflow_provider_vimmerse.params.ELEMENT_OPTIONS`.
        :param seed: image generation seed.
        :param aspect_ratio: one of ``16:9``, ``4:3``, ``1:1``, ``3:4``, ``9:16``.
        :param storyboard: an edited storyboard (dict or JSON text); elements with ``image_url`` are kept.
        :param enhance_image: apply 1x super-resolution.
        :param background_music: generate background music.
        :param extra_params: parameters the reference does not list yet.
        """
        fields = self._image_fields(
            p.ELEMENT_OPTIONS, option=option, seed=seed, aspect_ratio=aspect_ratio, storyboard=storyboard,
            enhance_image=enhance_image, background_music=background_music,
        )
        return self._story("POST", f"/story/{p.story_id(story_id)}/elements", p.form(fields, extra_params), charges=True)

    def create_scenes(
        self,
        story_id: str,
        *,
        option: str = "FluxKontextPro",
        seed: int | None = None,
        aspect_ratio: str = "16:9",
        storyboard: Mapping[str, Any] | str | None = None,
        enhance_image: bool = True,
        generate_elements: bool = True,
        narrator: str = "Rachel",
        background_music: bool = True,
        extra_params: Mapping[str, Any] | None = None,
    ) -> VimmerseStory:
        """
        Generate missing scene images and narrations (``POST /story/{id}/scenes``, step 2).

        :param story_id: the story.
        :param option: image model, one of :data:`~airflow_provider_vimmerse.params.IMAGE_OPTIONS`.
        :param seed: image generation seed.
        :param aspect_ratio: one of ``16:9``, ``4:3``, ``1:1``, ``3:4``, ``9:16``.
        :param storyboard: an edited storyboard (dict or JSON text); scenes with ``image_url`` are kept.
        :param enhance_image: apply 1x super-resolution.
        :param generate_elements: generate element images for consistency.
        :param narrator: voice, one of :data:`~airflow_provider_vimmerse.params.NARRATORS`.
        :param background_music: add background music.
        :param extra_params: parameters the reference does not list yet.
        """
        fields = self._image_fields(
            p.IMAGE_OPTIONS, option=option, seed=seed, aspect_ratio=aspect_ratio, storyboard=storyboard,
            enhance_image=enhance_image, background_music=background_music,
        )
        fields["generate_elements"] = p.boolean("generate_elements", generate_elements)
        fields["narrator"] = self._choice("narrator", narrator, p.NARRATORS)
        return self._story("POST", f"/story/{p.story_id(story_id)}/scenes", p.form(fields, extra_params), charges=True)

    def create_videos(
        self,
        story_id: str,
        *,
        title: str = "",
        storyboard: Mapping[str, Any] | str | None = None,
        scenes: list[Mapping[str, Any]] | str | None = None,
        is_transition: str = "No",
        motion_type: str = "Auto",
        duration: int = 5,
        loop: int = 1,
        sound_effects: str = "No",
        webhook_url: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> VimmerseStory:
        """
        Animate the scenes and compose the story video (``POST /story/{id}/videos``, step 3).

        :param story_id: the story.
        :param title: story title.
        :param storyboard: an edited storyboard (dict or JSON text).
        :param scenes: per-scene inputs ``[{"image_url", "prompt", "narration_url"}]`` (list or JSON text).
        :param is_transition: ``"Yes"`` to add transition images.
        :param motion_type: animation model, one of :data:`~airflow_provider_vimmerse.params.MOTION_TYPES`.
        :param duration: seconds per scene, 1..10.
        :param loop: repetitions of the motion, 1..6.
        :param sound_effects: ``"Yes"`` or ``"No"``.
        :param webhook_url: http(s) URL the service POSTs to when the story finishes.
        :param extra_params: parameters the reference does not list yet.
        """
        fields = {
            "title": p.text("title", title),
            "storyboard": None if storyboard is None else p.storyboard(storyboard),
            "scenes": None if scenes is None else p.scenes(scenes),
            "is_transition": p.yes_no("is_transition", is_transition),
            "motion_type": self._choice("motion_type", motion_type, p.MOTION_TYPES),
            "duration": p.integer("duration", duration, *p.DURATION_RANGE),
            "loop": p.integer("loop", loop, *p.LOOP_RANGE),
            "sound_effects": p.yes_no("sound_effects", sound_effects),
            "webhook_url": None if webhook_url is None else p.http_url("webhook_url", webhook_url),
        }
        return self._story("POST", f"/story/{p.story_id(story_id)}/videos", p.form(fields, extra_params), charges=True)

    def concat_story(
        self,
        story_id: str,
        *,
        concat_video_urls: list[str] | None = None,
        audio_urls: list[str] | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> VimmerseStory:
        """
        Compose the story's videos into one (``POST /story/{id}/concat``).

        :param story_id: the story.
        :param concat_video_urls: videos to compose instead of the story's own (sent as repeated keys).
        :param audio_urls: background audio for the composed video (sent as repeated keys).
        :param extra_params: parameters the reference does not list yet.
        """
        fields = {
            "concat_video_urls": None if concat_video_urls is None else p.url_list("concat_video_urls", concat_video_urls),
            "audio_urls": None if audio_urls is None else p.url_list("audio_urls", audio_urls),
        }
        return self._story("POST", f"/story/{p.story_id(story_id)}/concat", p.form(fields, extra_params), charges=True)

    def get_story(self, story_id: str) -> VimmerseStory:
        """Return the story's current state (``GET /story/{id}``)."""
        return self._story("GET", f"/story/{p.story_id(story_id)}")

    def update_story(
        self,
        story_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        visibility_status: str | None = None,
        storyboard: Mapping[str, Any] | str | None = None,
        webhook_url: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> VimmerseStory:
        """
        Change a story's metadata (``PUT /story/{id}``); only the given fields are sent.

        :param story_id: the story.
        :param title: new title.
        :param description: new description.
        :param visibility_status: ``"0"`` private, ``"1"`` unlisted, ``"2"`` public.
        :param storyboard: replacement storyboard (dict or JSON text).
        :param webhook_url: http(s) URL notified when the story finishes.
        :param extra_params: parameters the reference does not list yet.
        """
        fields = {
            "title": None if title is None else p.text("title", title),
            "description": None if description is None else p.text("description", description),
            "visibility_status": None
            if visibility_status is None
            else p.choice("visibility_status", str(visibility_status), p.VISIBILITY_STATUSES),
            "storyboard": None if storyboard is None else p.storyboard(storyboard),
            "webhook_url": None if webhook_url is None else p.http_url("webhook_url", webhook_url),
        }
        return self._story("PUT", f"/story/{p.story_id(story_id)}", p.form(fields, extra_params))

    def delete_story(self, story_id: str) -> None:
        """Delete a story (``DELETE /story/{id}``). Paid work is gone for good."""
        self._request("DELETE", f"/story/{p.story_id(story_id)}")

    def health(self) -> Any:
        """Return the body of ``GET /health`` (the service is up when this does not raise)."""
        body = self._request("GET", "/health")
        try:
            return data_from_body(body, method="GET", path="/health")
        except VimmerseError:
            return body.decode("utf-8", "replace")

    # ----------------------------------------------------------------------------- helpers

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the service is reachable and accepts the API key, without creating or charging anything.

        Reads ``/health``, then a story id that cannot exist: 404 proves the key was accepted.
        """
        try:
            base_url = self.settings.base_url
            self.health()
        except VimmerseError as err:
            return False, f"Vimmerse API not reachable: {err}"
        try:
            self.get_story(_CONNECTION_PROBE_ID)
        except VimmerseError as err:
            if getattr(err, "status_code", None) == 404:
                return True, f"Connected to {base_url}; the API key was accepted."
            if getattr(err, "status_code", None) in (401, 403):
                return False, f"Reached {base_url}, but the API key was rejected: {err}"
            return False, f"Reached {base_url}, but the key check failed: {err}"
        return True, f"Connected to {base_url}; the API key was accepted."

    def wait_for_story(
        self,
        story_id: str,
        *,
        poll_interval: float = 30.0,
        timeout: float | None = None,
        max_poll_errors: int = 5,
    ) -> VimmerseStory:
        """
        Poll a story until it reaches a terminal status, logging progress when it changes.

        :param poll_interval: seconds between polls.
        :param timeout: seconds to wait at most (``None``: no limit).
        :param max_poll_errors: consecutive failed polls tolerated (each after the request's own retries).
        :return: the story in ``success``.
        :raises VimmerseStoryFailedError: the story reached ``fail``.
        :raises VimmerseWaitTimeoutError: the deadline passed; the story is left running.
        :raises VimmersePollingError: polling kept failing; the story may still be running.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        last_seen: tuple[VimmerseStoryStatus, int] | None = None
        errors = 0
        while True:
            try:
                story = self.get_story(story_id)
            except TRANSIENT_POLL_ERRORS as err:
                errors += 1
                self.log.warning("Polling story %s failed (%d/%d): %s", story_id, errors, max_poll_errors, err)
                if errors > max_poll_errors:
                    raise VimmersePollingError(
                        f"Could not read the status of story {story_id}: {err} "
                        "The story may still be running on the service; it was not cancelled."
                    ) from None
            else:
                errors = 0
                self.log.debug("Polled story %s: %s %d%%", story.id, story.status.value, story.progress_percentage)
                if (story.status, story.progress_percentage) != last_seen:
                    self.log.info("story %s: %s %d%%", story.id, story.status.value, story.progress_percentage)
                    last_seen = (story.status, story.progress_percentage)
                if story.status is VimmerseStoryStatus.SUCCESS:
                    return story
                if story.status is VimmerseStoryStatus.FAIL:
                    raise VimmerseStoryFailedError(story)
            if deadline is not None and time.monotonic() >= deadline:
                raise VimmerseWaitTimeoutError(story_id, timeout or 0, last_seen[1] if last_seen else None)
            pause = poll_interval * min(2**errors, 8)
            self._sleep(pause if deadline is None else max(0.0, min(pause, deadline - time.monotonic())))

    def story_url(self, story_id: str) -> str | None:
        """The story's page, when the connection sets ``story_url_template``."""
        template = self.settings.story_url_template
        return template.format(story_id=p.story_id(story_id)) if template else None

    def download_video(self, url: str, destination: str, **kwargs: Any) -> DownloadResult:
        """
        Stream ``url`` to the local file ``destination`` (atomic, resumable, length-checked).

        The API key is sent only when ``url`` is on the API host itself; video CDNs never see it.
        Keyword arguments go to :func:`airflow_provider_vimmerse.hooks.download.download`.
        """
        settings = self.settings

        def headers_for(target: str) -> dict[str, str]:
            return {API_KEY_HEADER: settings.api_key} if settings.is_api_url(target) else {}

        from airflow_provider_vimmerse.hooks.download import download

        return download(
            self.session, url, destination, headers_for=headers_for,
            timeout=(settings.connect_timeout, settings.timeout), **kwargs,
        )
