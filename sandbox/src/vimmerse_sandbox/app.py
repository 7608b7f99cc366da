"""
The sandbox's HTTP API: the Story operations in both API versions (Legacy ``/story/...`` from
the published OpenAPI document, v2 ``/v2/story/...`` from the v2 reference), file serving, and
``/_sandbox`` admin.

Errors: Legacy answers ``{"message": CODE}`` for 400/401/402/404 and FastAPI's ``detail`` list
for 422; v2 answers ``{"message": prose, "code": CODE}`` for every error, 422 included.
"""

from __future__ import annotations

import datetime
import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from vimmerse_sandbox.faults import FaultBook
from vimmerse_sandbox.pipeline import Pipeline, SandboxConfig, Stats
from vimmerse_sandbox.routes_legacy import legacy_router
from vimmerse_sandbox.routes_v2 import v2_router
from vimmerse_sandbox.service import ApiError, StoryService
from vimmerse_sandbox.store import Store


class SandboxState:
    """Everything a running sandbox holds."""

    def __init__(self, config: SandboxConfig, faults: FaultBook | None = None) -> None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.store = Store(config.data_dir / "sandbox.sqlite3", config.credits)
        self.faults = faults or FaultBook()
        self.stats = Stats()
        self.pipeline = Pipeline(config, self.store, self.faults, self.stats)
        self.service = StoryService(config, self.store, self.pipeline, self.faults)

    def close(self) -> None:
        self.pipeline.shutdown()
        self.store.close()


def create_app(state: SandboxState) -> FastAPI:
    """Build the sandbox's FastAPI application over ``state``, serving the API versions its config names."""
    app = FastAPI(title="Vimmerse Story API sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    config = state.config

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        if _is_v2(request):
            return JSONResponse({"message": err.detail or err.code, "code": err.code}, status_code=err.status)
        # Legacy's 402 and 404 bodies are the code alone, as the OpenAPI document shows them.
        explained = err.detail and err.status not in (402, 404)
        body = {"message": err.code} | ({"detail": err.detail} if explained else {})
        return JSONResponse(body, status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        if not _is_v2(request):
            return await request_validation_exception_handler(request, err)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item.get('loc', ()) if p != 'body') or 'body'}: {item.get('msg', '')}"
            for item in err.errors()
        )
        return JSONResponse({"message": problems or "invalid request", "code": "VALIDATION_ERROR"}, status_code=422)

    def require_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
        if not x_api_key:
            raise ApiError(401, "UNAUTHORIZED", "Missing X-Api-Key header")
        if x_api_key != config.api_key:
            raise ApiError(401, "UNAUTHORIZED", "Invalid API key")

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"data": {"status": "ok"}}

    @app.get("/customer-statistics/{start_time}/{end_time}", dependencies=[Depends(require_key)])
    def customer_statistics(start_time: datetime.date, end_time: datetime.date) -> list[dict[str, Any]]:
        # Like the service, today's usage is not available until the day is over (unless told otherwise).
        return state.store.daily_usage(
            start_time.isoformat(), end_time.isoformat(), include_today=config.statistics_include_today
        )

    auth = [Depends(require_key)]
    if "v2" in config.api_versions:
        app.include_router(v2_router(state.service, auth))
    if "legacy" in config.api_versions:
        app.include_router(legacy_router(state.service, auth))

    # HEAD too, like the CDN the live service serves files from (size and type without the body).
    @app.api_route("/files/{story_id}/{name}", methods=["GET", "HEAD"])
    def get_file(story_id: str, name: str) -> FileResponse:
        root = state.pipeline.files.resolve()
        path = (root / story_id / name).resolve()
        if root not in path.parents or not path.is_file():
            raise ApiError(404, "NOT_FOUND")
        return FileResponse(path)

    # A story's page for people (no key: its id is the link, as a shared page on the service is).
    @app.get("/stories/{story_id}", response_class=HTMLResponse)
    def get_story_page(story_id: str) -> HTMLResponse:
        from vimmerse_sandbox.page import story_page

        story = state.store.get(story_id)
        if story is None:
            return HTMLResponse("<!doctype html><title>Not found</title><p>No such story.</p>", status_code=404)
        return HTMLResponse(story_page(story))

    if config.static_dir is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=config.static_dir), name="static")
    _add_admin_routes(app, state, require_key)
    return app


def _is_v2(request: Request) -> bool:
    return request.url.path.startswith("/v2/")


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
