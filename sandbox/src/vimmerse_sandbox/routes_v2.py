"""
The Story v2 routes, ``/v2/story/...``, from the service's v2 reference (api-v2-notes.md): JSON
for every request (a form is a 422), the story object itself on success (no ``data`` wrapper),
and ``{"message", "code"}`` for every error (the app's handlers shape those).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vimmerse_sandbox import schemas
from vimmerse_sandbox.service import StoryService


def v2_router(service: StoryService, dependencies: list[Any]) -> APIRouter:
    """The v2 Story routes over ``service``."""
    router = APIRouter(prefix="/v2", dependencies=dependencies)

    @router.post("/story/idea-2-video")
    def idea_to_video(body: schemas.Idea2VideoRequest) -> dict[str, Any]:
        return service.idea_to_video(body)

    @router.post("/story/url-2-video")
    def url_to_video(body: schemas.Url2VideoRequest) -> dict[str, Any]:
        return service.url_to_video(body)

    @router.post("/story/images-2-video")
    def images_to_video(body: schemas.Images2VideoRequest) -> dict[str, Any]:
        return service.images_to_video(body)

    @router.post("/story")
    def create_storyboard(body: schemas.StoryRequest) -> dict[str, Any]:
        return service.create_storyboard(
            idea=body.idea,
            story_id=body.story_id,
            scene_count=body.scene_count,
            language=body.language,
            aspect_ratio=body.aspect_ratio,
            audio_option=body.audio_option,
            elements=body.elements,
            image_urls=body.image_urls,
        )

    @router.post("/story/{story_id}/elements")
    def create_elements(story_id: str, body: schemas.ElementsRequest) -> dict[str, Any]:
        return service.create_elements(
            story_id, storyboard=body.storyboard, aspect_ratio=body.aspect_ratio, has_bg_music=body.has_bg_music
        )

    @router.post("/story/{story_id}/scenes")
    def create_scenes(story_id: str, body: schemas.ScenesRequest) -> dict[str, Any]:
        return service.create_scenes(
            story_id, storyboard=body.storyboard, aspect_ratio=body.aspect_ratio, audio_option=body.audio_option
        )

    @router.post("/story/{story_id}/videos")
    def create_videos(story_id: str, body: schemas.VideosRequest) -> dict[str, Any]:
        return service.create_videos(
            story_id,
            storyboard=body.storyboard,
            title=body.title,
            is_transition=body.is_transition,
            motion_type=body.motion_type,
            duration=body.duration,
            loop=body.loop,
            webhook_url=body.webhook_url,
            native_audio=body.native_audio,
        )

    @router.post("/story/{story_id}/concat")
    def concat_story(story_id: str, body: schemas.ConcatRequest) -> dict[str, Any]:
        return service.concat(story_id, concat_video_urls=body.concat_video_urls, audio_urls=body.audio_urls)

    @router.get("/story/{story_id}")
    def get_story(story_id: str) -> dict[str, Any]:
        return service.get(story_id)

    @router.put("/story/{story_id}")
    def update_story(story_id: str, body: schemas.UpdateRequest) -> dict[str, Any]:
        changes = {"title": body.title, "description": body.description, "visibility_status": body.visibility_status}
        return service.update(story_id, changes, body.additional_videos)

    @router.delete("/story/{story_id}")
    def delete_story(story_id: str) -> dict[str, Any]:
        service.delete(story_id)
        return {}

    return router
