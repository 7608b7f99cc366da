"""
The sandbox's HTTP API: the Story operations of the published OpenAPI document, file serving,
and ``/_sandbox`` admin.

Bodies, defaults, envelopes and error bodies follow the document: JSON bodies for the three
auto modes, multipart for ``POST /story``, forms for the steps and PUT; ``{"data": story}`` on
success, ``{"message": CODE}`` for 400/401/402/404, FastAPI's ``detail`` list for 422.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from vimmerse_sandbox import net, schemas
from vimmerse_sandbox.faults import FaultBook
from vimmerse_sandbox.pipeline import Pipeline, SandboxConfig, Stats, cost, now
from vimmerse_sandbox.store import Store

# Form parameters of the step operations: names, types and defaults from the document.
FormBool = Annotated[bool, Form()]
FormText = Annotated[str | None, Form()]


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


def _json_field(name: str, text: str | None, *, kind: type = dict) -> Any:
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


def _storyboard(text: str | None) -> dict[str, Any] | None:
    board = _json_field("storyboard", text)
    if board is not None:
        scenes = board.get("scenes")
        if not isinstance(scenes, list) or not scenes or not all(isinstance(s, dict) for s in scenes):
            raise ApiError(400, "BAD_REQUEST", "storyboard must have a non-empty 'scenes' list of objects")
    return board


def _audio(value: Any) -> dict[str, Any]:
    try:
        return schemas.audio_settings(value)
    except ValueError as err:
        raise ApiError(400, "BAD_REQUEST", str(err)) from None


def _http_urls(name: str, urls: list[str]) -> list[str]:
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "BAD_REQUEST", f"{name} must be http(s) URLs")
    return urls


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
        if not schemas.UUID_PATTERN.fullmatch(story_id):
            raise ApiError(400, "BAD_REQUEST", "Invalid story ID format")
        story = store.get(story_id)
        if story is None:
            raise ApiError(404, "NOT_FOUND")
        return story

    def start_job(story: dict[str, Any], kind: str, params: dict[str, Any], *, new: bool) -> dict[str, Any]:
        previous = dict(story)
        scenes = len((story.get("storyboard") or {}).get("scenes") or []) or int(params.get("scene_count") or 3)
        story.update(status="new", progress_percentage=0, message="", updated_at=now())
        if not new:
            story["video_url"] = "" if kind in ("videos", "concat") else story.get("video_url", "")
        charged = store.charge(cost(kind, scenes), story, {"kind": kind, "params": params}, new=new)
        if charged == "busy":
            raise ApiError(400, "BAD_REQUEST", "The story is still processing a previous request")
        if charged == "credit":
            raise ApiError(402, "INSUFFICIENT_CREDIT")
        pipeline.submit(story["id"])
        if not new and state.faults.take(("stale_status",), f"POST {kind}", "POST"):
            # Like the service under lag: the answer still shows the previous step's status.
            return {"data": previous | {"used_credits": story["used_credits"]}}
        return {"data": story}

    def new_story(idea: str, title: str = "", **fields: Any) -> dict[str, Any]:
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
            "customer_id": config.customer_id,
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

    def auto_mode(kind: str, body: schemas._AutoMode, idea: str, count: int, **extra: Any) -> dict[str, Any]:
        audio = _audio(body.audio_option)
        check_webhook(body.webhook_url)
        params = {
            "scene_count": count,
            "aspect_ratio": body.aspect_ratio,
            "duration": body.scene_duration,
            "loop": 1,
            "language": body.language,
            "elements": body.elements,
            "is_transition": body.is_transition,
            **audio,
            **extra,
        }
        story = new_story(
            idea,
            body.title,
            language=body.language,
            aspect_ratio=body.aspect_ratio,
            is_transition=body.is_transition,
            has_bg_music=audio["has_bg_music"],
            has_narration=audio["has_narration"],
            narrator=audio["narrator"],
            audio_option=audio,
            webhook_url=body.webhook_url or None,
            submit_params=params,
        )
        return start_job(story, kind, params, new=True)

    def check_webhook(url: str | None) -> None:
        if url:
            try:
                net.check_url(url, allow_private=config.allow_private_fetch)
            except net.FetchRefused as err:
                raise ApiError(400, "BAD_REQUEST", f"webhook_url: {err}") from None

    auth = [Depends(require_key)]

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"data": {"status": "ok"}}

    @app.post("/story/idea-2-video", dependencies=auth)
    def idea_to_video(body: schemas.Idea2VideoRequest) -> dict[str, Any]:
        if not body.idea.strip():
            raise ApiError(400, "BAD_REQUEST", "idea must not be empty")
        return auto_mode("idea2video", body, body.idea, body.scene_count, image_tool=body.image_tool)

    @app.post("/story/url-2-video", dependencies=auth)
    def url_to_video(body: schemas.Url2VideoRequest) -> dict[str, Any]:
        url, _, instructions = body.idea.strip().partition(" ")
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "BAD_REQUEST", "idea must start with the http(s) URL of a web page")
        return auto_mode(
            "url2video",
            body,
            body.idea,
            body.scene_count,
            page_url=url,
            instructions=instructions.strip(),
            image_tool=body.image_tool,
        )

    @app.post("/story/images-2-video", dependencies=auth)
    def images_to_video(body: schemas.Images2VideoRequest) -> dict[str, Any]:
        urls = _http_urls("image_urls", body.image_urls)
        return auto_mode("images2video", body, body.idea, len(urls), image_urls=urls)

    @app.post("/story", dependencies=auth)
    async def create_storyboard(
        idea: Annotated[str, Form()],
        story_id: FormText = None,
        scene_count: Annotated[int, Form()] = 3,
        language: Annotated[str, Form()] = "English",
        aspect_ratio: Annotated[schemas.AspectRatio | None, Form()] = None,
        audio_option: FormText = None,
        elements: FormText = None,
        image_files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI's way to declare a default
        image_urls: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        if not idea.strip():
            raise ApiError(400, "BAD_REQUEST", "idea must not be empty")
        audio = _audio(audio_option)
        element_data = _json_field("elements", elements)
        uploads = [(upload.filename or "image", await upload.read()) for upload in image_files]
        images = [] if uploads else _http_urls("image_urls", image_urls)
        count = len(uploads) or len(images) or scene_count
        params = {
            "scene_count": count,
            "language": language,
            "elements": element_data,
            "image_urls": images,
            **audio,
            "aspect_ratio": aspect_ratio or "16:9",
        }
        fields = {
            "language": language,
            "aspect_ratio": aspect_ratio or "16:9",
            "audio_option": audio,
            "narrator": audio["narrator"],
            "has_bg_music": audio["has_bg_music"],
            "has_narration": audio["has_narration"],
            "submit_params": params,
        }
        if story_id:
            story = story_or_404(story_id) | fields | {"idea": idea, "storyboard": None}
        else:
            story = new_story(idea, **fields)
        if uploads:
            params["image_urls"] = pipeline.save_uploads(story["id"], uploads)
        return start_job(story, "storyboard", params, new=not story_id)

    def step_story(story_id: str, storyboard: str | None) -> dict[str, Any]:
        story = story_or_404(story_id)
        story["storyboard"] = _storyboard(storyboard) or story.get("storyboard")
        if not story["storyboard"]:
            raise ApiError(400, "BAD_REQUEST", "The story has no storyboard yet")
        return story

    @app.post("/story/{story_id}/elements", dependencies=auth)
    def create_elements(
        story_id: str,
        option: Annotated[schemas.ImageOption, Form()] = "Seedream",
        aspect_ratio: FormText = None,
        storyboard: FormText = None,
        enhance_image: FormBool = False,
        has_bg_music: FormBool = True,
    ) -> dict[str, Any]:
        story = step_story(story_id, storyboard)
        ratio = aspect_ratio or story.get("aspect_ratio") or "16:9"
        params = {"aspect_ratio": ratio, "has_bg_music": has_bg_music and story.get("has_bg_music", True)}
        return start_job(story, "elements", params, new=False)

    @app.post("/story/{story_id}/scenes", dependencies=auth)
    def create_scenes(
        story_id: str,
        option: Annotated[schemas.ImageOption, Form()] = "Seedream",
        aspect_ratio: FormText = None,
        storyboard: FormText = None,
        enhance_image: FormBool = False,
        generate_elements: FormBool = True,
        narrator: Annotated[str, Form()] = "Rachel",
        has_narration: FormBool = True,
        has_bg_music: FormBool = True,
        audio_option: FormText = None,
    ) -> dict[str, Any]:
        story = step_story(story_id, storyboard)
        # narrator, has_narration and has_bg_music are deprecated and ignored by the service:
        # the story's audio_option (from step 1, or given here) decides.
        audio = _audio(audio_option) if audio_option else _audio(story.get("audio_option"))
        ratio = aspect_ratio or story.get("aspect_ratio") or "16:9"
        story.update(aspect_ratio=ratio, narrator=audio["narrator"], audio_option=audio)
        params = {"aspect_ratio": ratio, **audio, "language": story.get("language", "English")}
        return start_job(story, "scenes", params, new=False)

    @app.post("/story/{story_id}/videos", dependencies=auth)
    def create_videos(
        story_id: str,
        title: Annotated[str, Form()] = "",
        storyboard: FormText = None,
        is_transition: FormBool = False,
        motion_type: Annotated[schemas.MotionType, Form()] = "Auto",
        duration: Annotated[int, Form(ge=1, le=10)] = 5,
        loop: Annotated[int, Form(ge=1, le=6)] = 1,
        native_audio: FormBool = False,
        webhook_url: FormText = None,
    ) -> dict[str, Any]:
        story = step_story(story_id, storyboard)
        if title:
            story["title"] = title
        if webhook_url:
            check_webhook(webhook_url)
            story["webhook_url"] = webhook_url
        audio = _audio(story.get("audio_option"))
        params = {
            "duration": duration,
            "loop": loop,
            "motion_type": motion_type,
            "is_transition": is_transition,
            "aspect_ratio": story.get("aspect_ratio", "16:9"),
            **audio,
            "language": story.get("language", "English"),
        }
        return start_job(story, "videos", params, new=False)

    @app.post("/story/{story_id}/concat", dependencies=auth)
    def concat_story(
        story_id: str,
        concat_video_urls: Annotated[list[str], Form()] = [],  # noqa: B006
        audio_urls: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        story = story_or_404(story_id)
        if not concat_video_urls and not story.get("medias"):
            raise ApiError(400, "BAD_REQUEST", "The story has no videos to compose")
        params = {
            "concat_video_urls": _http_urls("concat_video_urls", concat_video_urls),
            "audio_urls": _http_urls("audio_urls", audio_urls),
        }
        start_job(story, "concat", params, new=False)
        return {}

    @app.get("/story/{story_id}", dependencies=auth)
    def get_story(story_id: str) -> dict[str, Any]:
        return {"data": pipeline.visible(story_or_404(story_id))}

    @app.put("/story/{story_id}", dependencies=auth)
    def update_story(
        story_id: str,
        title: FormText = None,
        description: FormText = None,
        visibility_status: Annotated[schemas.VisibilityStatus | None, Form()] = None,
        additional_videos: FormText = None,
    ) -> dict[str, Any]:
        story_or_404(story_id)
        changes: dict[str, Any] = {"title": title, "description": description, "visibility_status": visibility_status}
        changes = {k: v for k, v in changes.items() if v is not None}
        if additional_videos is not None:
            changes["additional_videos"] = _http_urls(
                "additional_videos", _json_field("additional_videos", additional_videos, kind=list)
            )
        story = store.update(story_id, changes | {"updated_at": now()})
        if story is None:
            raise ApiError(404, "NOT_FOUND")
        return {"data": story}

    @app.delete("/story/{story_id}", dependencies=auth)
    def delete_story(story_id: str) -> dict[str, Any]:
        story_or_404(story_id)
        store.delete(story_id)
        return {}

    # HEAD too, like the CDN the live service serves files from (size and type without the body).
    @app.api_route("/files/{story_id}/{name}", methods=["GET", "HEAD"])
    def get_file(story_id: str, name: str) -> FileResponse:
        root = pipeline.files.resolve()
        path = (root / story_id / name).resolve()
        if root not in path.parents or not path.is_file():
            raise ApiError(404, "NOT_FOUND")
        return FileResponse(path)

    if config.static_dir is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=config.static_dir), name="static")
    _add_admin_routes(app, state, require_key)
    return app


async def _json_body(request: Request) -> Any:
    """The request's body as JSON whatever its Content-Type (``curl -d`` sends a form type)."""
    try:
        return json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "BAD_REQUEST", "the body must be JSON") from None


def _add_admin_routes(app: FastAPI, state: SandboxState, require_key: Any) -> None:
    """``/_sandbox``: stats, credits and fault injection, for tests and demos; they need the API key too."""
    admin = [Depends(require_key)]

    @app.get("/_sandbox/stats", dependencies=admin)
    def stats() -> dict[str, Any]:
        return {
            **state.stats.snapshot(),
            "stories_created": state.store.counter("stories_created"),
            "credits": state.store.counter("credits"),
        }

    @app.put("/_sandbox/credits", dependencies=admin)
    async def set_credits(request: Request) -> Any:
        body = await _json_body(request)
        credits = body.get("credits") if isinstance(body, dict) else None
        if isinstance(credits, bool) or not isinstance(credits, int) or credits < 0:
            detail = [{"type": "value_error", "loc": ["body", "credits"], "msg": "an integer >= 0", "input": credits}]
            return JSONResponse({"detail": detail}, status_code=422)
        state.store.set_credits(credits)
        return {"credits": credits}

    @app.get("/_sandbox/faults", dependencies=admin)
    def list_faults() -> list[dict[str, Any]]:
        return state.faults.describe()

    @app.post("/_sandbox/faults", dependencies=admin)
    async def add_fault(request: Request) -> Any:
        spec = await _json_body(request)
        try:
            if not isinstance(spec, dict):
                raise TypeError("a fault is a JSON object")
            fault = state.faults.add(spec)
        except (TypeError, ValueError) as err:
            detail = [{"type": "value_error", "loc": ["body", "kind"], "msg": str(err), "input": spec}]
            return JSONResponse({"detail": detail}, status_code=422)
        return {"id": fault.id}

    @app.delete("/_sandbox/faults", dependencies=admin)
    def clear_faults() -> dict[str, Any]:
        state.faults.clear()
        return {"cleared": True}
