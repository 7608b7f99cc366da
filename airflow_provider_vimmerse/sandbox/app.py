"""
The sandbox's HTTP API: the Story endpoints of the reference, file serving, and ``/_sandbox`` admin.

Parameters, defaults, envelopes and error bodies follow the live service: ``{"data": story}``
on success, ``{"message": CODE}`` for 400/401/402/404, FastAPI's ``detail`` list for 422.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Form, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from airflow_provider_vimmerse import params as p
from airflow_provider_vimmerse.exceptions import VimmerseInvalidParameterError
from airflow_provider_vimmerse.sandbox.faults import FaultBook
from airflow_provider_vimmerse.sandbox.pipeline import Pipeline, SandboxConfig, Stats, cost, now
from airflow_provider_vimmerse.sandbox.store import Store


Option = Annotated[str, Form()]


class SandboxState:
    """Everything a running sandbox holds."""

    def __init__(self, config: SandboxConfig, faults: FaultBook | None = None) -> None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.store = Store(config.data_dir / "sandbox.sqlite3", config.credits)
        self.faults = faults or FaultBook()
        self.stats = Stats()
        self.pipeline = Pipeline(config, self.store, self.faults, self.stats)

    def close(self) -> None:
        self.pipeline.shutdown()
        self.store.close()


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str = "") -> None:
        self.status, self.code, self.detail = status, code, detail


def _unprocessable(field: str, message: str, value: Any) -> JSONResponse:
    return JSONResponse(
        {"detail": [{"type": "value_error", "loc": ["body", field], "msg": message, "input": value}]}, status_code=422
    )


def _checked(check: Any, *args: Any) -> Any:
    """Run a shared validator from :mod:`airflow_provider_vimmerse.params`; its error becomes a 422."""
    try:
        return check(*args)
    except VimmerseInvalidParameterError as err:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("body", err.field), "msg": f"Value error, allowed: {err.allowed}", "input": err.value}]
        ) from None


def create_app(state: SandboxState) -> FastAPI:
    """Build the sandbox's FastAPI application over ``state``."""
    app = FastAPI(title="Vimmerse Story API sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    store, pipeline, config = state.store, state.pipeline, state.config

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        body = {"message": err.code} | ({"detail": err.detail} if err.detail else {})
        return JSONResponse(body, status_code=err.status)

    def require_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if not x_api_key:
            raise ApiError(401, "UNAUTHORIZED", "Missing X-Api-Key header")
        if x_api_key != config.api_key:
            raise ApiError(401, "UNAUTHORIZED", "Invalid API key")

    def story_or_404(story_id: str) -> dict[str, Any]:
        story = store.get(story_id)
        if story is None:
            raise ApiError(404, "NOT_FOUND")
        return story

    def storyboard_or_400(text: str | None) -> dict[str, Any] | None:
        if not text:
            return None
        try:
            return json.loads(_checked(p.storyboard, text))
        except RequestValidationError:
            raise ApiError(400, "BAD_REQUEST", "storyboard must be a JSON object with a non-empty 'scenes' list") from None

    def start_job(story: dict[str, Any], kind: str, params: dict[str, Any], *, new: bool) -> dict[str, Any]:
        if not new and story["status"] in ("new", "processing"):
            raise ApiError(400, "BAD_REQUEST", "The story is still processing a previous request")
        scenes = len((story.get("storyboard") or {}).get("scenes") or []) or int(params.get("scene_count") or 3)
        story.update(status="new", progress_percentage=0, message="", updated_at=now())
        if not store.charge(cost(kind, scenes), story, {"kind": kind, "params": params}, new=new):
            raise ApiError(402, "INSUFFICIENT_CREDIT")
        pipeline.submit(story["id"])
        return {"data": story}

    def new_story(idea: str, title: str = "", **fields: Any) -> dict[str, Any]:
        if not idea.strip():
            raise ApiError(400, "BAD_REQUEST", "idea must not be empty")
        created = now()
        return {
            "id": str(uuid.uuid4()), "status": "new", "progress_percentage": 0, "video_url": "",
            "created_at": created, "updated_at": created, "title": title, "idea": idea, "description": "",
            "customer_id": config.customer_id, "language": "en", "used_credits": 0, "visibility_status": "1",
            "is_transition": False, "has_bg_music": True, "has_narration": False, "narrator": "Rachel",
            "storyboard": None, "scenes": [], "medias": [], "failed_medias": [], "story_version": 0,
            "version": "2", "message": "", **fields,
        }

    auth = [Depends(require_key)]

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"data": {"status": "ok"}}

    @app.post("/story/idea-2-video", dependencies=auth)
    def idea_to_video(
        idea: Annotated[str, Form()] = "",
        scene_count: Annotated[int, Form(ge=1, le=20)] = 3,
        option: Option = "FluxKontextPro",
        generate_elements: Annotated[bool, Form()] = True,
        aspect_ratio: Option = "16:9",
        seed: Annotated[int | None, Form()] = None,
        is_transition: Option = "No",
        title: Annotated[str, Form()] = "",
        description: Annotated[str, Form()] = "",
        visibility_status: Option = "1",
        motion_type: Option = "Auto",
        duration: Annotated[int, Form(ge=1, le=10)] = 5,
        loop: Annotated[int, Form(ge=1, le=6)] = 1,
        enhance_image: Annotated[bool, Form()] = True,
        narrator: Option = "Rachel",
        background_music: Annotated[bool, Form()] = True,
        sound_effects: Option = "No",
        webhook_url: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        _checked(p.choice, "option", option, p.IMAGE_OPTIONS)
        _checked(p.choice, "aspect_ratio", aspect_ratio, p.ASPECT_RATIOS)
        _checked(p.choice, "motion_type", motion_type, p.MOTION_TYPES)
        _checked(p.choice, "narrator", narrator, p.NARRATORS)
        _checked(p.choice, "visibility_status", visibility_status, p.VISIBILITY_STATUSES)
        _checked(p.yes_no, "is_transition", is_transition)
        _checked(p.yes_no, "sound_effects", sound_effects)
        params = {
            "scene_count": scene_count, "option": option, "aspect_ratio": aspect_ratio, "seed": seed,
            "duration": duration, "loop": loop, "narrator": narrator, "background_music": background_music,
            "motion_type": motion_type, "is_transition": is_transition, "generate_elements": generate_elements,
        }
        story = new_story(
            idea, title, description=description, visibility_status=visibility_status, narrator=narrator,
            is_transition=is_transition == "Yes", has_bg_music=background_music, webhook_url=webhook_url,
            submit_params=params,
        )
        return start_job(story, "idea2video", params, new=True)

    @app.post("/story", dependencies=auth)
    def create_storyboard(
        idea: Annotated[str, Form()] = "",
        scene_count: Annotated[int, Form(ge=1, le=20)] = 3,
        title: Annotated[str, Form()] = "",
    ) -> dict[str, Any]:
        story = new_story(idea, title, submit_params={"scene_count": scene_count})
        return start_job(story, "storyboard", {"scene_count": scene_count}, new=True)

    @app.post("/story/{story_id}/elements", dependencies=auth)
    def create_elements(
        story_id: str,
        option: Option = "FluxKontextPro",
        seed: Annotated[int | None, Form()] = None,
        aspect_ratio: Option = "9:16",
        storyboard: Annotated[str | None, Form()] = None,
        enhance_image: Annotated[bool, Form()] = False,
        background_music: Annotated[bool, Form()] = True,
    ) -> dict[str, Any]:
        _checked(p.choice, "option", option, p.ELEMENT_OPTIONS)
        _checked(p.choice, "aspect_ratio", aspect_ratio, p.ASPECT_RATIOS)
        story = story_or_404(story_id)
        story["storyboard"] = storyboard_or_400(storyboard) or story.get("storyboard")
        if not story["storyboard"]:
            raise ApiError(400, "BAD_REQUEST", "The story has no storyboard yet")
        params = {"aspect_ratio": aspect_ratio, "background_music": background_music, "seed": seed}
        return start_job(story, "elements", params, new=False)

    @app.post("/story/{story_id}/scenes", dependencies=auth)
    def create_scenes(
        story_id: str,
        option: Option = "FluxKontextPro",
        seed: Annotated[int | None, Form()] = None,
        aspect_ratio: Option = "16:9",
        storyboard: Annotated[str | None, Form()] = None,
        enhance_image: Annotated[bool, Form()] = True,
        generate_elements: Annotated[bool, Form()] = True,
        narrator: Option = "Rachel",
        background_music: Annotated[bool, Form()] = True,
    ) -> dict[str, Any]:
        _checked(p.choice, "option", option, p.IMAGE_OPTIONS)
        _checked(p.choice, "aspect_ratio", aspect_ratio, p.ASPECT_RATIOS)
        _checked(p.choice, "narrator", narrator, p.NARRATORS)
        story = story_or_404(story_id)
        story["storyboard"] = storyboard_or_400(storyboard) or story.get("storyboard")
        if not story["storyboard"]:
            raise ApiError(400, "BAD_REQUEST", "The story has no storyboard yet")
        story.update(narrator=narrator, aspect_ratio=aspect_ratio)
        params = {"aspect_ratio": aspect_ratio, "narrator": narrator, "background_music": background_music}
        return start_job(story, "scenes", params, new=False)

    @app.post("/story/{story_id}/videos", dependencies=auth)
    def create_videos(
        story_id: str,
        title: Annotated[str, Form()] = "",
        storyboard: Annotated[str | None, Form()] = None,
        scenes: Annotated[str | None, Form()] = None,
        is_transition: Option = "No",
        motion_type: Option = "Auto",
        duration: Annotated[int, Form(ge=1, le=10)] = 5,
        loop: Annotated[int, Form(ge=1, le=6)] = 1,
        sound_effects: Option = "No",
        webhook_url: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        _checked(p.choice, "motion_type", motion_type, p.MOTION_TYPES)
        _checked(p.yes_no, "is_transition", is_transition)
        _checked(p.yes_no, "sound_effects", sound_effects)
        scene_inputs = json.loads(_checked(p.scenes, scenes)) if scenes else None
        story = story_or_404(story_id)
        story["storyboard"] = storyboard_or_400(storyboard) or story.get("storyboard")
        if not story["storyboard"] and not scene_inputs:
            raise ApiError(400, "BAD_REQUEST", "The story has no storyboard yet")
        if title:
            story["title"] = title
        if webhook_url:
            story["webhook_url"] = webhook_url
        params = {
            "duration": duration, "loop": loop, "motion_type": motion_type, "scenes": scene_inputs,
            "aspect_ratio": story.get("aspect_ratio", "16:9"), "narrator": story.get("narrator", "Rachel"),
        }
        return start_job(story, "videos", params, new=False)

    @app.post("/story/{story_id}/concat", dependencies=auth)
    def concat_story(
        story_id: str,
        concat_video_urls: Annotated[list[str] | None, Form()] = None,
        audio_urls: Annotated[list[str] | None, Form()] = None,
    ) -> dict[str, Any]:
        for field, urls in (("concat_video_urls", concat_video_urls), ("audio_urls", audio_urls)):
            if urls:
                _checked(p.url_list, field, urls)
        story = story_or_404(story_id)
        if not concat_video_urls and not story.get("medias"):
            raise ApiError(400, "BAD_REQUEST", "The story has no videos to compose")
        params = {"concat_video_urls": concat_video_urls or [], "audio_urls": audio_urls or []}
        return start_job(story, "concat", params, new=False)

    @app.get("/story/{story_id}", dependencies=auth)
    def get_story(story_id: str) -> dict[str, Any]:
        return {"data": story_or_404(story_id)}

    @app.put("/story/{story_id}", dependencies=auth)
    def update_story(
        story_id: str,
        title: Annotated[str | None, Form()] = None,
        description: Annotated[str | None, Form()] = None,
        visibility_status: Annotated[str | None, Form()] = None,
        storyboard: Annotated[str | None, Form()] = None,
        webhook_url: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        if visibility_status is not None:
            _checked(p.choice, "visibility_status", visibility_status, p.VISIBILITY_STATUSES)
        changes = {"title": title, "description": description, "visibility_status": visibility_status, "webhook_url": webhook_url}
        changes = {k: v for k, v in changes.items() if v is not None}
        if storyboard:
            changes["storyboard"] = storyboard_or_400(storyboard)
        story = store.update(story_id, changes | {"updated_at": now()})
        if story is None:
            raise ApiError(404, "NOT_FOUND")
        return {"data": story}

    @app.delete("/story/{story_id}", dependencies=auth)
    def delete_story(story_id: str) -> dict[str, Any]:
        story = story_or_404(story_id)
        store.delete(story_id)
        return {"data": {"id": story["id"], "deleted": True}}

    @app.get("/files/{story_id}/{name}")
    def get_file(story_id: str, name: str) -> FileResponse:
        root = pipeline.files.resolve()
        path = (root / story_id / name).resolve()
        if root not in path.parents or not path.is_file():
            raise ApiError(404, "NOT_FOUND")
        return FileResponse(path)

    if config.static_dir is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=config.static_dir), name="static")
    _add_admin_routes(app, state)
    return app


def _add_admin_routes(app: FastAPI, state: SandboxState) -> None:
    """``/_sandbox``: stats, credits and fault injection, for tests and demos."""

    @app.get("/_sandbox/stats")
    def stats() -> dict[str, Any]:
        return {
            **state.stats.snapshot(),
            "stories_created": state.store.counter("stories_created"),
            "credits": state.store.counter("credits"),
        }

    @app.put("/_sandbox/credits")
    def set_credits(credits: Annotated[int, Body(embed=True, ge=0)]) -> dict[str, Any]:
        state.store.set_credits(credits)
        return {"credits": credits}

    @app.get("/_sandbox/faults")
    def list_faults() -> list[dict[str, Any]]:
        return state.faults.describe()

    @app.post("/_sandbox/faults")
    def add_fault(spec: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        try:
            fault = state.faults.add(spec)
        except (TypeError, ValueError) as err:
            return _unprocessable("kind", str(err), spec)
        return {"id": fault.id}

    @app.delete("/_sandbox/faults")
    def clear_faults() -> dict[str, Any]:
        state.faults.clear()
        return {"cleared": True}

