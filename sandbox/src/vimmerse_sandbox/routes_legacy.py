"""
The Story (Legacy) routes, ``/story/...``, as the published OpenAPI document has them: JSON for
the three automatic modes, multipart for ``POST /story``, forms for the steps and PUT;
``{"data": story}`` on success (``{}`` for concat and delete).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from vimmerse_sandbox import schemas
from vimmerse_sandbox.service import StoryService, json_text

FormBool = Annotated[bool, Form()]
FormText = Annotated[str | None, Form()]


def legacy_router(service: StoryService, dependencies: list[Any]) -> APIRouter:
    """The Legacy Story routes over ``service``."""
    router = APIRouter(dependencies=dependencies)

    @router.post("/story/idea-2-video")
    def idea_to_video(body: schemas.Idea2VideoRequest) -> dict[str, Any]:
        return {"data": service.idea_to_video(body)}

    @router.post("/story/url-2-video")
    def url_to_video(body: schemas.Url2VideoRequest) -> dict[str, Any]:
        return {"data": service.url_to_video(body)}

    @router.post("/story/images-2-video")
    def images_to_video(body: schemas.Images2VideoRequest) -> dict[str, Any]:
        return {"data": service.images_to_video(body)}

    @router.post("/story")
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
        uploads = [(upload.filename or "image", await upload.read()) for upload in image_files]
        story = service.create_storyboard(
            idea=idea,
            story_id=story_id,
            scene_count=scene_count,
            language=language,
            aspect_ratio=aspect_ratio,
            audio_option=audio_option,
            elements=json_text("elements", elements),
            image_urls=image_urls,
            uploads=uploads,
        )
        return {"data": story}

    @router.post("/story/{story_id}/elements")
    def create_elements(
        story_id: str,
        option: Annotated[schemas.ImageOption, Form()] = "Seedream",
        aspect_ratio: FormText = None,
        storyboard: FormText = None,
        enhance_image: FormBool = False,
        has_bg_music: FormBool = True,
    ) -> dict[str, Any]:
        board = json_text("storyboard", storyboard)
        story = service.create_elements(
            story_id, storyboard=board, aspect_ratio=aspect_ratio, has_bg_music=has_bg_music
        )
        return {"data": story}

    @router.post("/story/{story_id}/scenes")
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
        board = json_text("storyboard", storyboard)
        story = service.create_scenes(story_id, storyboard=board, aspect_ratio=aspect_ratio, audio_option=audio_option)
        return {"data": story}

    @router.post("/story/{story_id}/videos")
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
        story = service.create_videos(
            story_id,
            storyboard=json_text("storyboard", storyboard),
            title=title,
            is_transition=is_transition,
            motion_type=motion_type,
            duration=duration,
            loop=loop,
            webhook_url=webhook_url,
            native_audio=native_audio,
        )
        return {"data": story}

    @router.post("/story/{story_id}/concat")
    def concat_story(
        story_id: str,
        concat_video_urls: Annotated[list[str], Form()] = [],  # noqa: B006
        audio_urls: Annotated[list[str], Form()] = [],  # noqa: B006
    ) -> dict[str, Any]:
        service.concat(story_id, concat_video_urls=concat_video_urls, audio_urls=audio_urls)
        return {}

    @router.get("/story/{story_id}")
    def get_story(story_id: str) -> dict[str, Any]:
        return {"data": service.get(story_id)}

    @router.put("/story/{story_id}")
    def update_story(
        story_id: str,
        title: FormText = None,
        description: FormText = None,
        visibility_status: Annotated[schemas.VisibilityStatus | None, Form()] = None,
        additional_videos: FormText = None,
    ) -> dict[str, Any]:
        changes = {"title": title, "description": description, "visibility_status": visibility_status}
        videos = json_text("additional_videos", additional_videos, kind=list) if additional_videos is not None else None
        return {"data": service.update(story_id, changes, videos)}

    @router.delete("/story/{story_id}")
    def delete_story(story_id: str) -> dict[str, Any]:
        service.delete(story_id)
        return {}

    return router
