"""
Request models and value lists, written by hand from the Vimmerse REST API's published OpenAPI
document (the Story operations). Strict like the service: a value outside a list is a 422.

Nothing here is shared with any client: a client that drifts from the document fails against
the sandbox instead of passing.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

AspectRatio = Literal["16:9", "4:3", "1:1", "3:4", "9:16"]
# The OpenAPI's lists, with what the service's reference added since (api-v2-notes.md).
ImageTool = Literal["AutoI", "Seedream", "FluxTurbo", "NanoBanana", "QwenImage"]
VideoTool = Literal["Auto", "KlingAI", "Seedance", "Pixverse", "VeoFast", "Vidu", "AutoT1", "VeoLite", "PVideo"]
Language = Literal[
    "Arabic", "Chinese", "English", "French", "German", "Hindi", "Japanese", "Korean", "Spanish", "Turkish"
]
ImageOption = Literal[
    "Seedream",
    "FluxPro",
    "FluxTurbo",
    "NanoBananaPro",
    "NanoBanana",
    "FluxKontextPro",
    "FluxFinetuned",
    "QwenImage",
    "StableDiffusion3.5",
    "LeonardoImage",
    "GPTImage",
    "Auto",
]
MotionType = Literal[
    "Auto",
    "AutoT3",
    "KlingAI",
    "KlingT4",
    "LumaAI",
    "LumaRay2",
    "VeoFast",
    "Veo",
    "RunwayML",
    "MinimaxHailuo",
    "Seedance",
    "SeedanceFast",
    "Hunyuan",
    "Pixverse",
    "PixverseT3",
    "PicoMotion",
    "StaticMotion",
    "Wan",
    "Sora",
    "SoraPro",
]
VisibilityStatus = Literal["0", "1", "2"]
AudioOption = dict[str, Any] | str | None

UUID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DEFAULT_IMAGES_IDEA = "Create a stunning video showcasing these images with a compelling narrative"


class AutoMode(BaseModel):
    """Fields the three auto modes share."""

    video_tool: VideoTool = "Auto"
    scene_duration: Literal[5, 10] = 5
    aspect_ratio: AspectRatio = "16:9"
    is_transition: bool = False
    elements: dict[str, Any] | None = None
    audio_option: AudioOption = None
    language: Language = "English"
    title: str = ""
    webhook_url: str = ""


class Idea2VideoRequest(AutoMode):
    idea: str
    scene_count: int = Field(3, ge=1)
    image_tool: ImageTool = "AutoI"


class Url2VideoRequest(AutoMode):
    idea: str = Field(description="URL of the webpage to scrape for content, optionally followed by instructions.")
    scene_count: int = Field(3, ge=1)
    image_tool: ImageTool = "AutoI"


class Images2VideoRequest(AutoMode):
    idea: str = DEFAULT_IMAGES_IDEA
    image_urls: list[str] = Field(min_length=1)


# v2: the step operations take the same fields as Legacy's forms, as one JSON object each.
class StoryRequest(BaseModel):
    idea: str
    story_id: str | None = None
    scene_count: int = Field(3, ge=1)
    language: str = "English"
    aspect_ratio: AspectRatio | None = None
    audio_option: AudioOption = None
    elements: dict[str, Any] | None = None
    image_urls: list[str] = []


class ElementsRequest(BaseModel):
    option: ImageOption = "Seedream"
    aspect_ratio: AspectRatio | None = None
    storyboard: dict[str, Any] | None = None
    enhance_image: bool = False
    has_bg_music: bool = True


class ScenesRequest(BaseModel):
    option: ImageOption = "Seedream"
    aspect_ratio: AspectRatio | None = None
    storyboard: dict[str, Any] | None = None
    enhance_image: bool = False
    generate_elements: bool = True
    narrator: str = "Rachel"
    has_narration: bool = True
    has_bg_music: bool = True
    audio_option: AudioOption = None


class VideosRequest(BaseModel):
    title: str = ""
    storyboard: dict[str, Any] | None = None
    is_transition: bool = False
    motion_type: MotionType = "Auto"
    duration: int = Field(5, ge=1, le=10)
    loop: int = Field(1, ge=1, le=6)
    native_audio: bool = False
    webhook_url: str | None = None


class ConcatRequest(BaseModel):
    concat_video_urls: list[str] = []
    audio_urls: list[str] = []


class UpdateRequest(BaseModel):
    title: str | None = None
    description: str | None = None
    visibility_status: VisibilityStatus | None = None
    additional_videos: list[str] | None = None


AUDIO_DEFAULTS = {"narrator": "Rachel", "has_narration": True, "has_bg_music": True, "native_audio": False}


def audio_settings(value: Any) -> dict[str, Any]:
    """
    The effective audio settings of an ``audio_option`` (an object, or its JSON text).

    ``native_audio`` turns narration off, as the document says.

    :raises ValueError: for text that is not a JSON object.
    """
    import json

    if value in (None, ""):
        option: Any = {}
    elif isinstance(value, str):
        option = json.loads(value)
    else:
        option = value
    if not isinstance(option, dict):
        raise ValueError("audio_option must be a JSON object")
    settings = {**AUDIO_DEFAULTS, **{k: option[k] for k in AUDIO_DEFAULTS if k in option}}
    for flag in ("has_narration", "has_bg_music", "native_audio"):
        if not isinstance(settings[flag], bool):
            raise ValueError(f"audio_option.{flag} must be a boolean")
    if settings["native_audio"]:
        settings["has_narration"] = False
    return settings
