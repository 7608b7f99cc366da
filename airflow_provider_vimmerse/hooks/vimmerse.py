"""
The hook for the Vimmerse Story API: :class:`VimmerseHook`. Its async twin for triggers,
:class:`~airflow_provider_vimmerse.hooks.vimmerse_async.VimmerseAsyncHook`, shares the connection
rules, retry policy (:mod:`~airflow_provider_vimmerse.hooks._transport`: never repeat a request
that may have been charged) and error mapping.

Both own their HTTP sessions, as the Databricks hooks do (docs/hooks.md says why). Requests go
through ``Session.request``, so proxies, ``NO_PROXY``, CA bundles and netrc are honoured. The
connection's extras are settings, never HTTP headers, and the API key is added to each API
request, never to the session: downloads from a CDN never see it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_vimmerse import _endpoints as api
from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._polling import (
    DEFAULT_MAX_POLL_ERRORS,
    DEFAULT_POLL_INTERVAL,
    POLL_ERRORS,
    PollState,
    decide,
    event,
    log_progress,
    polling_floor,
)
from airflow_provider_vimmerse._signatures import documented
from airflow_provider_vimmerse.exceptions import (
    VimmerseConfigurationError,
    VimmerseError,
    VimmerseInvalidParameterError,
    VimmerseUnavailableError,
    _error_for_event,
    _may_exist_error,
)
from airflow_provider_vimmerse.hooks._transport import (
    _API_KEY_HEADER,
    ConnectionSettings,
    RetryPolicy,
    _missing_connection,
    _read_within,
    _requests_failure,
    _VimmerseConnection,
    describe_failure,
    next_retry,
    oversized_answer,
)
from airflow_provider_vimmerse.models import VimmerseStory, _data_from_body, _story_from_body

if TYPE_CHECKING:
    import requests

    from airflow_provider_vimmerse._download import DownloadResult

__all__ = ["VimmerseHook"]

# A well-formed story id that cannot exist: the service answers 400 for ids that are not UUIDs.
_CONNECTION_PROBE_ID = "00000000-0000-4000-8000-000000000000"


#: What Airflow's UI sends in place of a saved password.
_MASKED_KEY = "***"


class VimmerseHook(_VimmerseConnection, BaseHook):
    """
    Calls the Vimmerse Story API.

    The connection's password is the API key; its host defaults to ``https://api.vimmerse.net``.
    Extras: ``api_version`` (``v2``, the default, or ``legacy``), ``timeout``, ``connect_timeout``,
    ``retry_limit``, ``retry_delay``, ``max_retry_delay``, ``verify_ssl``, ``story_url_template``.

    Every endpoint method checks its parameters before anything is sent (see
    :mod:`airflow_provider_vimmerse._endpoints`) and returns a
    :class:`~airflow_provider_vimmerse.models.VimmerseStory`.

    :param vimmerse_conn_id: the ``vimmerse`` connection to use.
    """

    def __init__(self, vimmerse_conn_id: str = _VimmerseConnection.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vimmerse_conn_id = vimmerse_conn_id
        self._sleep: Callable[[float], None] = time.sleep

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection's settings (read once per hook)."""
        with _missing_connection(self.vimmerse_conn_id):
            return ConnectionSettings.from_connection(self.get_connection(self.vimmerse_conn_id))

    @cached_property
    def session(self) -> requests.Session:
        """One keep-alive session for this hook (TLS verification from the connection)."""
        import requests

        session = requests.Session()
        session.verify = self.settings.verify_ssl
        return session

    def close(self) -> None:
        """Close the HTTP session."""
        if "session" in self.__dict__:
            self.__dict__.pop("session").close()

    def __enter__(self) -> VimmerseHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ transport

    def _request(
        self, method: str, path: str, *, charges: bool = False, deadline: float | None = None, **body: Any
    ) -> bytes:
        """
        Send one API request with the retry policy; return the 2xx body or raise the typed error.

        :param deadline: a ``time.monotonic()`` instant no retry wait may pass (a poll's deadline).
        """
        import requests
        from urllib3.exceptions import HTTPError as Urllib3Error

        settings = self.settings
        policy = settings.retry
        url = settings.base_url + path
        headers = {_API_KEY_HEADER: settings.api_key, "Accept": "application/json"}
        attempt = 0
        while True:
            failure = response = status = retry_after = None
            content, cause = b"", ""
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    allow_redirects=False,
                    stream=True,
                    timeout=(settings.connect_timeout, settings.timeout),
                    **body,
                )
                content, complete = _read_within(response, settings.timeout)
                status, retry_after = response.status_code, response.headers.get("Retry-After")
            except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError) as err:
                raise VimmerseConfigurationError(
                    f"{method} {path} could not be sent ({type(err).__name__}): check the connection's host and key."
                ) from None
            except (requests.RequestException, Urllib3Error) as err:
                failure, cause = _requests_failure(err), describe_failure(err, settings.timeout)
            finally:
                if response is not None:
                    response.close()
            if failure is None and status < 300:
                if not complete:
                    raise oversized_answer(method, path, charges=charges)
                return content
            delay, why = next_retry(
                policy,
                attempt,
                method=method,
                path=path,
                charges=charges,
                status=status,
                body=content,
                retry_after=retry_after,
                failure=failure,
                cause=cause,
                url=url,
                secret=settings.api_key,
                remaining=None if deadline is None else deadline - time.monotonic(),
            )
            self._log_retry(method, path, why, delay, attempt, policy.retry_limit)
            self._sleep(delay)
            attempt += 1

    def _story_path(self, path: str) -> str:
        """``path`` (``/story/...``, as Legacy names it) in the connection's API version."""
        return self.settings.story_path_prefix + path

    def _submit(self, endpoint: api.Endpoint, arguments: dict[str, Any], story_id: str | None = None) -> VimmerseStory:
        """Check ``arguments`` against ``endpoint``, send them, and return the story it answered with."""
        extra_params = arguments.pop("extra_params", None)
        fields = endpoint.payload(arguments, extra_params)
        path = endpoint.path.format(story_id=v.story_id(story_id)) if endpoint.on_story else endpoint.path
        path = self._story_path(path)
        body = endpoint.request_body(fields, self.settings.api_version)
        raw = self._request(endpoint.method, path, charges=endpoint.charges, **body)
        try:
            data = _data_from_body(raw, method=endpoint.method, path=path)
            if data is None and story_id is not None:
                # Some operations answer ``{}``: the story is read back instead.
                return self.get_story(story_id)
            return VimmerseStory.from_api(data)
        except VimmerseUnavailableError as err:
            if endpoint.charges:
                raise _may_exist_error(
                    endpoint.method, path, f"answered 2xx, but the answer could not be read ({err})"
                ) from None
            raise

    # ------------------------------------------------------------------------------ endpoints

    @documented(api.IDEA_TO_VIDEO)
    def idea_to_video(self, idea: str, **params: Any) -> VimmerseStory:
        return self._submit(api.IDEA_TO_VIDEO, {**params, "idea": idea})

    @documented(api.URL_TO_VIDEO)
    def url_to_video(self, url: str, instructions: str | None = None, **params: Any) -> VimmerseStory:
        return self._submit(api.URL_TO_VIDEO, {**params, "url": url, "instructions": instructions})

    @documented(api.IMAGES_TO_VIDEO)
    def images_to_video(self, image_urls: list[str], **params: Any) -> VimmerseStory:
        return self._submit(api.IMAGES_TO_VIDEO, {**params, "image_urls": image_urls})

    @documented(api.CREATE_STORYBOARD)
    def create_storyboard(self, idea: str, **params: Any) -> VimmerseStory:
        return self._submit(api.CREATE_STORYBOARD, {**params, "idea": idea})

    @documented(api.CREATE_ELEMENTS)
    def create_elements(self, story_id: str, **params: Any) -> VimmerseStory:
        return self._submit(api.CREATE_ELEMENTS, params, story_id)

    @documented(api.CREATE_SCENES)
    def create_scenes(self, story_id: str, **params: Any) -> VimmerseStory:
        return self._submit(api.CREATE_SCENES, params, story_id)

    @documented(api.CREATE_VIDEOS)
    def create_videos(self, story_id: str, **params: Any) -> VimmerseStory:
        return self._submit(api.CREATE_VIDEOS, params, story_id)

    @documented(api.CONCAT_STORY)
    def concat_story(self, story_id: str, **params: Any) -> VimmerseStory:
        return self._submit(api.CONCAT_STORY, params, story_id)

    @documented(api.UPDATE_STORY)
    def update_story(self, story_id: str, **params: Any) -> VimmerseStory:
        return self._submit(api.UPDATE_STORY, params, story_id)

    def get_story(self, story_id: str, *, deadline: float | None = None) -> VimmerseStory:
        """
        Return the story's current state (``GET /v2/story/{id}``, or ``/story/{id}`` on Legacy).

        :param deadline: a ``time.monotonic()`` instant no retry wait may pass.
        """
        path = self._story_path(f"/story/{v.story_id(story_id)}")
        return _story_from_body(self._request("GET", path, deadline=deadline), method="GET", path=path)

    def delete_story(self, story_id: str) -> None:
        """Delete a story (``DELETE /v2/story/{id}``, or ``/story/{id}`` on Legacy). Paid work is gone for good."""
        self._request("DELETE", self._story_path(f"/story/{v.story_id(story_id)}"))

    def customer_statistics(self, start: date | str, end: date | str) -> list[dict[str, Any]]:
        """
        Daily usage from ``start`` to ``end`` (``GET /customer-statistics/{start}/{end}``; dates, or
        ``YYYY-MM-DD`` text). The service shows a day once it is over: today is not in the answer yet.

        :return: the days the service reports, as it reports them (e.g. ``date``, ``used_credits``).
        :raises VimmerseInvalidParameterError: for a date that is not one, before anything is sent.
        """
        days = [v.iso_day(name, value) for name, value in (("start", start), ("end", end))]
        if days[0] > days[1]:
            raise VimmerseInvalidParameterError("end", end, f"a day on or after start ({days[0]})")
        path = f"/customer-statistics/{days[0]}/{days[1]}"
        raw = self._request("GET", path)
        try:
            answer = json.loads(raw)
        except (ValueError, RecursionError):
            raise VimmerseUnavailableError(f"GET {path} answered 2xx with a body that is not JSON.") from None
        days_reported = answer.get("data") if isinstance(answer, dict) else answer  # wrapped or flat
        if not isinstance(days_reported, list):
            raise VimmerseUnavailableError(f"GET {path} answered 2xx without a list of days.")
        return days_reported

    def health(self) -> Any:
        """Return the body of ``GET /health`` (the service is up when this does not raise)."""
        body = self._request("GET", "/health")
        try:
            return _data_from_body(body, method="GET", path="/health")
        except VimmerseError:
            return body.decode("utf-8", "replace")

    # ------------------------------------------------------------------------------ helpers

    def test_connection(self) -> tuple[bool, str]:
        """
        Check the service is reachable and accepts the API key, without creating or charging anything.

        Reads ``/health``, then a well-formed story id that cannot exist, in the connection's API
        version: 404 proves the key was accepted. Each request is tried once: a person is waiting.
        """
        try:
            base_url = self.settings.base_url
            version = self.settings.api_version
        except VimmerseError as err:
            return False, str(err)
        if self.settings.api_key == _MASKED_KEY:
            return False, (
                "The key to test is Airflow's mask ('***'), not a key: the UI's Test button sends the masked "
                "password of a saved connection. Type the key into the form again, or test from the command "
                "line: airflow connections test <conn_id>."
            )
        self.__dict__["settings"] = replace(self.settings, retry=RetryPolicy(retry_limit=0))
        try:
            self.health()
        except VimmerseError as err:
            return False, f"Vimmerse API at {base_url} not reachable: {err}"
        try:
            self.get_story(_CONNECTION_PROBE_ID)
        except VimmerseError as err:
            status = getattr(err, "status_code", None)
            if status == 404:
                return True, f"Connected to {base_url} (Story API {version}); the API key was accepted."
            if status in (401, 403):
                return False, f"Reached {base_url}, but the API key was rejected: {err}"
            if status == 400:
                return (
                    True,
                    f"Connected to {base_url} (Story API {version}); the key check answered 400 ({err}), "
                    "not an authentication error.",
                )
            return False, f"Reached {base_url}, but the key check (Story API {version}) failed: {err}"
        return True, f"Connected to {base_url} (Story API {version}); the API key was accepted."

    def wait_for_story(
        self,
        story_id: str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        max_poll_errors: int = DEFAULT_MAX_POLL_ERRORS,
        needs_video: bool = False,
        not_found_grace: float = 0.0,
    ) -> VimmerseStory:
        """
        Poll a story until it is finished, logging progress when it changes.

        When to stop is :func:`~airflow_provider_vimmerse._polling.decide`'s call, as for the trigger and sensor.

        :param poll_interval: seconds between polls, at least 1 (a smaller value polls every second).
        :param timeout: seconds to wait at most (``None``: no limit).
        :param max_poll_errors: consecutive failed polls tolerated (each after the request's own retries).
        :param needs_video: done only once the story has a ``video_url``, not at ``success`` alone.
        :param not_found_grace: seconds during which a 404 is read as the service's lag (for a story
            just created), not as a missing story.
        :return: the story in ``success``.
        :raises VimmerseStoryFailedError: the story reached ``fail``.
        :raises VimmerseWaitError: the deadline passed (``timed_out``; the story is left running), or the
            story said ``success`` without a ``video_url`` for longer than the grace period.
        :raises VimmerseUnavailableError: polling kept failing; the story may still be running.
        :raises VimmerseNotFoundError: the story does not exist.
        """
        poll_interval = polling_floor(self.log, "poll_interval", poll_interval)
        deadline = None if timeout is None else time.monotonic() + timeout
        state = PollState()
        while True:
            result: VimmerseStory | Exception
            try:
                result = self.get_story(story_id, deadline=deadline)
            except POLL_ERRORS as err:
                self.log.warning(
                    "Polling story %s failed (%d/%d): %s", story_id, state.errors + 1, max_poll_errors, err
                )
                result = err
            decision = decide(
                result,
                state,
                now=time.monotonic(),
                deadline=deadline,
                poll_interval=poll_interval,
                max_poll_errors=max_poll_errors,
                needs_video=needs_video,
                story_id=story_id,
                not_found_grace=not_found_grace,
            )
            log_progress(self.log, story_id, decision)
            if decision.done:
                if decision.outcome == "success":
                    return decision.story
                raise _error_for_event(event(decision, story_id), timeout, decision.story)
            state = decision.state
            self._sleep(decision.sleep)

    def story_url(self, story_id: str) -> str | None:
        """The story's page, when the connection sets ``story_url_template``."""
        template = self.settings.story_url_template
        return template.format(story_id=v.story_id(story_id)) if template else None

    def events_webhook_url(self, name: str = "default") -> str:
        """
        The ``webhook_url`` that makes a story fire :class:`VimmerseStoryEventTrigger` ``name`` when it
        finishes (for stories created anywhere, in Airflow or not). Derived from the API key and
        ``[vimmerse] webhook_public_url``: it changes when the key does.

        :raises VimmerseConfigurationError: when ``[vimmerse] webhook_public_url`` is not set.
        """
        from airflow_provider_vimmerse import _config as config
        from airflow_provider_vimmerse._webhooks import WebhookToken

        public_url = config.webhook_public_url()
        if not public_url:
            raise VimmerseConfigurationError(
                "[vimmerse] webhook_public_url is not set: there is no URL at which Vimmerse can reach the triggerers."
            )
        return WebhookToken.for_events(self.settings.api_key, name).masked().url(public_url)

    def download_video(
        self, url: str, destination: str | os.PathLike[str], *, max_resumes: int = 3, chunk_size: int = 512 * 1024
    ) -> DownloadResult:
        """
        Stream ``url`` to the local file ``destination``: constant memory, atomic (nothing is left at
        ``destination`` on failure), and length-checked. A dropped connection resumes with an HTTP
        ``Range`` request up to ``max_resumes`` times; an answer for a file that changed restarts
        from zero. The API key is sent only when ``url`` is on the API host; video CDNs never see it.

        :return: a ``DownloadResult`` with the file's ``path``, ``bytes`` and ``sha256``.
        :raises VimmerseUnavailableError: when the download fails.
        """
        from airflow_provider_vimmerse._download import download

        settings = self.settings

        def headers_for(target: str) -> dict[str, str]:
            return {_API_KEY_HEADER: settings.api_key} if settings.is_api_url(target) else {}

        return download(
            self.session,
            url,
            destination,
            headers_for=headers_for,
            timeout=(settings.connect_timeout, settings.timeout),
            max_resumes=max_resumes,
            chunk_size=chunk_size,
        )
