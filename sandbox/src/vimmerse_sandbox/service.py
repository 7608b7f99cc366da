"""
What the Story operations do, whichever API version asked: create a story, run a step, read,
change or delete one. The route modules (:mod:`~vimmerse_sandbox.routes_legacy`,
:mod:`~vimmerse_sandbox.routes_v2`) only decode their version's request and shape its answer.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from vimmerse_sandbox import net, schemas
from vimmerse_sandbox.faults import FaultBook
from vimmerse_sandbox.pipeline import Pipeline, SandboxConfig, cost, now
from vimmerse_sandbox.store import Store


class ApiError(Exception):
    """An error answer: HTTP status, the machine code, and the prose for a person."""

    def __init__(self, status: int, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.status, self.code, self.detail = status, code, detail


def json_text(name: str, text: str | None, *, kind: type = dict) -> Any:
    """A form field that carries JSON text (storyboard, elements, audio_option)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(400, "BAD_REQUEST", f"{name} must be JSON") from None
    if not isinstance(value, kind):
        raise ApiError(400, "BAD_REQUEST", f"{name} must be a JSON {kind.__name__}")
    return value


STORYBOARD_LISTS = ("characters", "environments", "objects", "scenes")


def checked_storyboard(board: Any) -> dict[str, Any] | None:
    """
    A step's storyboard: an object with ``characters``, ``environments``, ``objects`` and
    ``scenes`` lists of objects, ``scenes`` not empty.
    """
    if board is None:
        return None
    if not isinstance(board, dict):
        raise ApiError(400, "BAD_REQUEST", "storyboard must be an object")
    for key in STORYBOARD_LISTS:
        items = board.get(key)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "BAD_REQUEST", f"storyboard must have a '{key}' list of objects")
    if not board["scenes"]:
        raise ApiError(400, "BAD_REQUEST", "storyboard must have a non-empty 'scenes' list")
    return board


def audio(value: Any) -> dict[str, Any]:
    try:
        return schemas.audio_settings(value)
    except ValueError as err:
        raise ApiError(400, "BAD_REQUEST", str(err)) from None


def http_urls(name: str, urls: list[str]) -> list[str]:
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "BAD_REQUEST", f"{name} must be http(s) URLs")
    return urls


class StoryService:
    """The Story operations over a store and a pipeline; every method returns the story as stored."""

    def __init__(self, config: SandboxConfig, store: Store, pipeline: Pipeline, faults: FaultBook) -> None:
        self.config, self.store, self.pipeline, self.faults = config, store, pipeline, faults

    def story_or_404(self, story_id: str) -> dict[str, Any]:
        if not schemas.UUID_PATTERN.fullmatch(story_id):
            raise ApiError(400, "BAD_REQUEST", "Invalid story ID format")
        story = self.store.get(story_id)
        if story is None:
            raise ApiError(404, "NOT_FOUND", "Story not found")
        return story

    def _start(self, story: dict[str, Any], kind: str, params: dict[str, Any], *, new: bool) -> dict[str, Any]:
        previous = dict(story)
        scenes = len((story.get("storyboard") or {}).get("scenes") or []) or int(params.get("scene_count") or 3)
        story.update(status="new", progress_percentage=0, message="", updated_at=now())
        if not new:
            story["video_url"] = "" if kind in ("videos", "concat") else story.get("video_url", "")
        charged = self.store.charge(cost(kind, scenes, params), story, {"kind": kind, "params": params}, new=new)
        if charged == "busy":
            raise ApiError(400, "BAD_REQUEST", "The story is still processing a previous request")
        if charged == "credit":
            raise ApiError(402, "INSUFFICIENT_CREDIT", "Not enough credits; nothing was created")
        self.pipeline.submit(story["id"])
        if not new and self.faults.take(("stale_status",), f"POST {kind}", "POST"):
            # Like the service under lag: the answer still shows the previous step's status.
            return previous | {"used_credits": story["used_credits"]}
        return story

    def _new_story(self, idea: str, title: str = "", **fields: Any) -> dict[str, Any]:
        created = now()
        return {
            "id": str(uuid.uuid4()),
            "status": "new",
            "progress_percentage": 0,
            "video_url": "",
            "created_at": created,
            "updated_at": created,
            "title": title,
            "idea": idea,
            "description": "",
            "customer_id": self.config.customer_id,
            "language": "English",
            "used_credits": 0,
            "visibility_status": "1",
            "is_transition": False,
            "has_bg_music": True,
            "has_narration": True,
            "narrator": "Rachel",
            "aspect_ratio": "16:9",
            "storyboard": None,
            "scenes": [],
            "medias": [],
            "failed_medias": [],
            "story_version": 0,
            "version": "2",
            "message": "",
            **fields,
        }

    def check_webhook(self, url: str | None) -> None:
        if url:
            try:
                net.check_url(url, allow_private=self.config.allow_private_fetch)
            except net.FetchRefused as err:
                raise ApiError(400, "BAD_REQUEST", f"webhook_url: {err}") from None

    # ------------------------------------------------------------------ automatic modes

    def _auto_mode(self, kind: str, body: schemas.AutoMode, idea: str, count: int, **extra: Any) -> dict[str, Any]:
        settings = audio(body.audio_option)
        self.check_webhook(body.webhook_url)
        params = {
            "scene_count": count,
            "video_tool": body.video_tool,
            "aspect_ratio": body.aspect_ratio,
            "duration": body.scene_duration,
            "loop": 1,
            "language": body.language,
            "elements": getattr(body, "elements", None),
            "is_transition": body.is_transition,
            **settings,
            **extra,
        }
        story = self._new_story(
            idea,
            body.title,
            language=body.language,
            aspect_ratio=body.aspect_ratio,
            is_transition=body.is_transition,
            has_bg_music=settings["has_bg_music"],
            has_narration=settings["has_narration"],
            narrator=settings["narrator"],
            audio_option=settings,
            webhook_url=body.webhook_url or None,
            submit_params=params,
        )
        return self._start(story, kind, params, new=True)

    def idea_to_video(self, body: schemas.Idea2VideoRequest) -> dict[str, Any]:
        if not body.idea.strip():
            raise ApiError(400, "BAD_REQUEST", "idea must not be empty")
        return self._auto_mode("idea2video", body, body.idea, body.scene_count, image_tool=body.image_tool)

    def url_to_video(self, body: schemas.Url2VideoRequest) -> dict[str, Any]:
        url, _, instructions = body.idea.strip().partition(" ")
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "BAD_REQUEST", "idea must start with the http(s) URL of a web page")
        return self._auto_mode(
            "url2video",
            body,
            body.idea,
            body.scene_count,
            page_url=url,
            instructions=instructions.strip(),
            image_tool=body.image_tool,
        )

    def images_to_video(self, body: schemas.Images2VideoRequest) -> dict[str, Any]:
        urls = http_urls("image_urls", body.image_urls)
        return self._auto_mode("images2video", body, body.idea, len(urls), image_urls=urls)

    # ------------------------------------------------------------------ steps

    def create_storyboard(
        self,
        *,
        idea: str,
        story_id: str | None,
        scene_count: int,
        language: str,
        aspect_ratio: str | None,
        audio_option: Any,
        elements: dict[str, Any] | None,
        image_urls: list[str],
        uploads: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        if not idea.strip():
            raise ApiError(400, "BAD_REQUEST", "idea must not be empty")
        settings = audio(audio_option)
        images = [] if uploads else http_urls("image_urls", image_urls)
        count = len(uploads) or len(images) or scene_count
        params = {
            "scene_count": count,
            "language": language,
            "elements": elements,
            "image_urls": images,
            **settings,
            "aspect_ratio": aspect_ratio or "16:9",
        }
        fields = {
            "language": language,
            "aspect_ratio": aspect_ratio or "16:9",
            "audio_option": settings,
            "narrator": settings["narrator"],
            "has_bg_music": settings["has_bg_music"],
            "has_narration": settings["has_narration"],
            "submit_params": params,
        }
        if story_id:
            story = self.story_or_404(story_id) | fields | {"idea": idea, "storyboard": None}
        else:
            story = self._new_story(idea, **fields)
        if uploads:
            params["image_urls"] = self.pipeline.save_uploads(story["id"], list(uploads))
        return self._start(story, "storyboard", params, new=not story_id)

    def _step_story(self, story_id: str, storyboard: dict[str, Any] | None) -> dict[str, Any]:
        story = self.story_or_404(story_id)
        story["storyboard"] = checked_storyboard(storyboard) or story.get("storyboard")
        if not story["storyboard"]:
            raise ApiError(400, "BAD_REQUEST", "The story has no storyboard yet")
        return story

    def create_elements(
        self, story_id: str, *, storyboard: dict[str, Any] | None, aspect_ratio: str | None, has_bg_music: bool
    ) -> dict[str, Any]:
        story = self._step_story(story_id, storyboard)
        ratio = aspect_ratio or story.get("aspect_ratio") or "16:9"
        params = {"aspect_ratio": ratio, "has_bg_music": has_bg_music and story.get("has_bg_music", True)}
        return self._start(story, "elements", params, new=False)

    def create_scenes(
        self, story_id: str, *, storyboard: dict[str, Any] | None, aspect_ratio: str | None, audio_option: Any
    ) -> dict[str, Any]:
        story = self._step_story(story_id, storyboard)
        # narrator, has_narration and has_bg_music are deprecated and ignored by the service:
        # the story's audio_option (from step 1, or given here) decides.
        settings = audio(audio_option) if audio_option else audio(story.get("audio_option"))
        ratio = aspect_ratio or story.get("aspect_ratio") or "16:9"
        story.update(aspect_ratio=ratio, narrator=settings["narrator"], audio_option=settings)
        params = {"aspect_ratio": ratio, **settings, "language": story.get("language", "English")}
        return self._start(story, "scenes", params, new=False)

    def create_videos(
        self,
        story_id: str,
        *,
        storyboard: dict[str, Any] | None,
        title: str,
        is_transition: bool,
        motion_type: str,
        duration: int,
        loop: int,
        webhook_url: str | None,
        native_audio: bool = False,
    ) -> dict[str, Any]:
        story = self._step_story(story_id, storyboard)
        if title:
            story["title"] = title
        if webhook_url:
            self.check_webhook(webhook_url)
            story["webhook_url"] = webhook_url
        params = {
            "duration": duration,
            "loop": loop,
            "motion_type": motion_type,
            "is_transition": is_transition,
            "aspect_ratio": story.get("aspect_ratio", "16:9"),
            **audio(story.get("audio_option")),
            "language": story.get("language", "English"),
        }
        params["native_audio"] = params["native_audio"] or native_audio
        return self._start(story, "videos", params, new=False)

    def concat(self, story_id: str, *, concat_video_urls: list[str], audio_urls: list[str]) -> dict[str, Any]:
        story = self.story_or_404(story_id)
        if not concat_video_urls and not story.get("medias"):
            raise ApiError(400, "BAD_REQUEST", "The story has no videos to compose")
        params = {
            "concat_video_urls": http_urls("concat_video_urls", concat_video_urls),
            "audio_urls": http_urls("audio_urls", audio_urls),
        }
        return self._start(story, "concat", params, new=False)

    # ------------------------------------------------------------------ read, change, delete

    def get(self, story_id: str) -> dict[str, Any]:
        return self.pipeline.visible(self.story_or_404(story_id))

    def update(self, story_id: str, changes: dict[str, Any], additional_videos: list[str] | None) -> dict[str, Any]:
        self.story_or_404(story_id)
        changes = {k: v for k, v in changes.items() if v is not None}
        if additional_videos is not None:
            changes["additional_videos"] = http_urls("additional_videos", additional_videos)
        story = self.store.update(story_id, changes | {"updated_at": now()})
        if story is None:
            raise ApiError(404, "NOT_FOUND", "Story not found")
        return story

    def delete(self, story_id: str) -> None:
        self.story_or_404(story_id)
        self.store.delete(story_id)
