"""
The Story API's endpoints and their parameters, each stated once (the machinery that checks and
encodes them is in :mod:`airflow_provider_vimmerse._parameters`).

Every request parameter's name, default, allowed values and meaning live here, written from the
service's published OpenAPI document. The hook methods, the operators' arguments and template
fields, and the parameter tables in the docs are all derived from these specs, so adding a
parameter to an endpoint is one :class:`Param` line (plus its test).

Why a declarative spec rather than defaults in hook signatures with operators passing only what
the user set: the same facts are needed in three shapes (a Python signature, Airflow template
fields, reST docs), and the service renames parameters between API versions. A spec states each
fact once, carries the older names as :class:`Alias` entries, and lets one function
(:meth:`Endpoint.payload`) check and encode every request before anything is sent.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._parameters import Alias, Endpoint, Param, VimmerseDeprecationWarning, encode_form
from airflow_provider_vimmerse._uploads import image_file_list

__all__ = ["ENDPOINTS", "KNOWN_VALUES", "Alias", "Endpoint", "Param", "VimmerseDeprecationWarning", "encode_form"]

# --------------------------------------------------------------------------- known value lists
# fmt: off
# From the OpenAPI document. Names (models, tools, voices, languages) are advisory: the
# service changes them monthly, so a name outside these lists is sent with a warning.
ASPECT_RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16")
# Image and video tools: the OpenAPI's lists with the additions in api-v2-notes.md (late 2026).
IMAGE_TOOLS = ("AutoI", "Seedream", "FluxTurbo", "NanoBanana", "QwenImage")
VIDEO_TOOLS = ("Auto", "KlingAI", "Seedance", "Pixverse", "VeoFast", "Vidu", "AutoT1", "VeoLite", "PVideo")
SCENE_DURATIONS = (5, 10)
LANGUAGES = ("Arabic", "Chinese", "English", "French", "German", "Hindi", "Japanese", "Korean", "Spanish", "Turkish")
IMAGE_MODELS = (
    "Seedream", "FluxPro", "FluxTurbo", "NanoBananaPro", "NanoBanana", "FluxKontextPro", "FluxFinetuned",
    "QwenImage", "StableDiffusion3.5", "LeonardoImage", "GPTImage", "Auto",
)
MOTION_TYPES = (
    "Auto", "AutoT3", "KlingAI", "KlingT4", "LumaAI", "LumaRay2", "VeoFast", "Veo", "RunwayML", "MinimaxHailuo",
    "Seedance", "SeedanceFast", "Hunyuan", "Pixverse", "PixverseT3", "PicoMotion", "StaticMotion", "Wan", "Sora",
    "SoraPro",
)
NARRATORS = (
    "Rachel", "Aria", "Roger", "Sarah", "Laura", "Charlie", "George", "Callum", "River", "Liam", "Charlotte",
    "Alice", "Matilda", "Will", "Jessica", "Eric", "Chris", "Brian", "Daniel", "Lily", "Bill",
)
VISIBILITY_STATUSES = ("0", "1", "2")
# fmt: on

#: Value lists shown in the docs, by the name the docs use.
KNOWN_VALUES: dict[str, tuple[Any, ...]] = {
    "ASPECT_RATIOS": ASPECT_RATIOS,
    "IMAGE_TOOLS": IMAGE_TOOLS,
    "VIDEO_TOOLS": VIDEO_TOOLS,
    "SCENE_DURATIONS": SCENE_DURATIONS,
    "LANGUAGES": LANGUAGES,
    "IMAGE_MODELS": IMAGE_MODELS,
    "MOTION_TYPES": MOTION_TYPES,
    "NARRATORS": NARRATORS,
    "VISIBILITY_STATUSES": VISIBILITY_STATUSES,
}


_OBJECT = "Mapping[str, Any] | str"  # an object, or its JSON text
_URLS = "Sequence[str]"


def _literal(values: tuple[Any, ...]) -> str:
    """The ``Literal[...]`` annotation of a strict value list."""
    return "Literal[" + ", ".join(json.dumps(value) for value in values) + "]"


def _choice(values: tuple[Any, ...], *, advisory: bool) -> Callable[[str, Any], Any]:
    return partial(v.choice, allowed=values, advisory=advisory)


def _allowed(values: tuple[Any, ...], advisory: bool = False) -> str:
    shown = ", ".join(f"``{value}``" for value in values)
    return f"one of {shown}" + (" (known names; others are sent with a warning)" if advisory else "")


def _is_transition(field_name: str, value: Any) -> bool:
    if isinstance(value, str) and value.strip() in ("Yes", "No"):
        warnings.warn(
            f"{field_name}={value!r} is the older form; pass a boolean (True/False).",
            VimmerseDeprecationWarning,
            stacklevel=4,
        )
        return value.strip() == "Yes"
    return v.boolean(field_name, value)


_text = v.text
_required_text = partial(v.text, required=True)
_positive = partial(v.integer, minimum=1)
_audio_option = partial(v.audio_option, narrators=NARRATORS)


def _scene_count(default: int | None = 3) -> Param:
    return Param("scene_count", _positive, "number of scenes, an integer >= 1.", default=default, annotation="int")


def _aspect_ratio(default: str | None = "16:9", doc: str = "") -> Param:
    return Param(
        "aspect_ratio",
        _choice(ASPECT_RATIOS, advisory=False),
        doc or _allowed(ASPECT_RATIOS) + ".",
        default,
        annotation=_literal(ASPECT_RATIOS),
    )


_VIDEO_TOOL = Param(
    "video_tool", _choice(VIDEO_TOOLS, advisory=True), f"animation model, {_allowed(VIDEO_TOOLS, True)}.", "Auto"
)
_SCENE_DURATION = Param(
    "scene_duration",
    partial(v.integer_choice, allowed=SCENE_DURATIONS),
    "seconds per scene, ``5`` or ``10``.",
    5,
    annotation=_literal(SCENE_DURATIONS),
)
_IS_TRANSITION = Param(
    "is_transition", _is_transition, "add transition videos between scenes (boolean).", False, annotation="bool"
)
_ELEMENTS = Param(
    "elements",
    v.json_object,
    "pre-defined ``characters``, ``environments`` and ``objects`` (an object, or its JSON text); an element with "
    "``image_url`` is used as given.",
    annotation=_OBJECT,
)
_AUDIO_OPTION = Param(
    "audio_option",
    _audio_option,
    "an object (or its JSON text) with ``has_bg_music``, ``has_narration``, ``native_audio`` (booleans) and "
    f"``narrator`` ({_allowed(NARRATORS, True)}).",
    annotation=_OBJECT,
)
_LANGUAGE = Param(
    "language",
    _choice(LANGUAGES, advisory=True),
    f"language of the storyboard and narration, {_allowed(LANGUAGES, True)}.",
    "English",
)
_TITLE = Param("title", _text, "story title.", "")
_WEBHOOK_URL = Param(
    "webhook_url",
    v.http_url,
    "http(s) URL the service POSTs ``{customer_id, batch_id, status}`` to when the story finishes.",
)
_STORYBOARD = Param(
    "storyboard",
    v.storyboard,
    "an edited storyboard (an object or its JSON text) with a non-empty ``scenes`` list.",
    annotation=_OBJECT,
)
_IMAGE_OPTION = Param(
    "option", _choice(IMAGE_MODELS, advisory=True), f"image model, {_allowed(IMAGE_MODELS, True)}.", "Seedream"
)
_ENHANCE_IMAGE = Param(
    "enhance_image", v.boolean, "apply 1x super-resolution to generated images.", False, annotation="bool"
)
_HAS_BG_MUSIC = Param(
    "has_bg_music",
    v.boolean,
    "generate background music (the service now reads ``audio_option``).",
    True,
    annotation="bool",
)

_AUTO_ALIASES = (
    Alias("option", "image_tool"),
    Alias("motion_type", "video_tool"),
    Alias("duration", "scene_duration"),
    Alias("narrator", "audio_option", "narrator"),
    Alias("background_music", "audio_option", "has_bg_music"),
)
_AUTO_GONE = ("generate_elements", "enhance_image", "seed", "description", "visibility_status", "loop", "sound_effects")


# --------------------------------------------------------------------------- endpoint specs


_IDEA = Param("idea", _required_text, "what the story is about (non-empty).", required=True)
_AUTO_COMMON = (
    _VIDEO_TOOL,
    _SCENE_DURATION,
    _aspect_ratio(),
    _IS_TRANSITION,
    _ELEMENTS,
    _AUDIO_OPTION,
    _LANGUAGE,
    _TITLE,
    _WEBHOOK_URL,
)
_IMAGE_TOOL = Param(
    "image_tool", _choice(IMAGE_TOOLS, advisory=True), f"image model, {_allowed(IMAGE_TOOLS, True)}.", "AutoI"
)

IDEA_TO_VIDEO = Endpoint(
    "idea_to_video",
    "POST",
    "/story/idea-2-video",
    "json",
    "Create a story and its video from an idea in one call",
    (_IDEA, _scene_count(), _IMAGE_TOOL, *_AUTO_COMMON),
    aliases=_AUTO_ALIASES,
    ignored=_AUTO_GONE,
    produces_video=True,
)
URL_TO_VIDEO = Endpoint(
    "url_to_video",
    "POST",
    "/story/url-2-video",
    "json",
    "Create a story and its video from a web page (a product page, an article) in one call",
    (
        Param(
            "idea",
            v.http_url,
            "URL of the web page to turn into a video (sent as ``idea``).",
            required=True,
            argument="url",
        ),
        Param(
            "instructions",
            _text,
            "what to make of the page, e.g. ``Make a 30 second ad for young parents`` (sent in ``idea``, after "
            "the URL and a space).",
            appends_to="idea",
        ),
        _scene_count(),
        _IMAGE_TOOL,
        *_AUTO_COMMON,
    ),
    aliases=_AUTO_ALIASES,
    ignored=_AUTO_GONE,
    produces_video=True,
)
IMAGES_TO_VIDEO = Endpoint(
    "images_to_video",
    "POST",
    "/story/images-2-video",
    "json",
    "Create a story video from your own images in one call",
    (
        Param(
            "image_urls",
            partial(v.url_list, min_items=1),
            "publicly reachable image URLs, one scene each.",
            required=True,
            annotation=_URLS,
        ),
        Param("idea", _text, "what the story is about; the service has its own default text."),
        *(param for param in _AUTO_COMMON if param is not _ELEMENTS),
    ),
    aliases=tuple(a for a in _AUTO_ALIASES if a.old != "option"),
    ignored=(*_AUTO_GONE, "option", "scene_count", "elements"),
    produces_video=True,
)
CREATE_STORYBOARD = Endpoint(
    "create_storyboard",
    "POST",
    "/story",
    "multipart",
    "Create a story and its storyboard (advanced step 1)",
    (
        Param("story_id", lambda _name, value: v.story_id(value), "an existing story whose storyboard to write again."),
        _IDEA,
        _scene_count(),
        _LANGUAGE,
        _aspect_ratio(None, _allowed(ASPECT_RATIOS) + "; the service defaults to ``16:9``."),
        _AUDIO_OPTION,
        _ELEMENTS,
        Param(
            "image_urls", v.url_list, "images to build the scenes from (scene count follows them).", annotation=_URLS
        ),
        Param(
            "image_files",
            image_file_list,
            "Legacy only: local image files (regular files or ``ObjectStoragePath`` s, PNG/JPEG/WebP/GIF, at "
            "most 20 MiB each), uploaded.",
            upload=True,
            annotation="Sequence[str | os.PathLike[str]]",
        ),
    ),
    ignored=("title",),
)
CREATE_ELEMENTS = Endpoint(
    "create_elements",
    "POST",
    "/story/{story_id}/elements",
    "form",
    "Generate element images and music for a storyboard (advanced step 1.5)",
    (
        _IMAGE_OPTION,
        _aspect_ratio(None, _allowed(ASPECT_RATIOS) + "; defaults to the story's."),
        _STORYBOARD,
        _ENHANCE_IMAGE,
        _HAS_BG_MUSIC,
    ),
    aliases=(Alias("background_music", "has_bg_music"),),
    ignored=("seed",),
)
CREATE_SCENES = Endpoint(
    "create_scenes",
    "POST",
    "/story/{story_id}/scenes",
    "form",
    "Generate missing scene images and narrations (advanced step 2)",
    (
        _IMAGE_OPTION,
        _aspect_ratio(None, _allowed(ASPECT_RATIOS) + "; defaults to the story's."),
        _STORYBOARD,
        _ENHANCE_IMAGE,
        Param(
            "has_narration",
            v.boolean,
            "narrate the scenes (the service now reads ``audio_option``).",
            annotation="bool",
        ),
        Param(
            "has_bg_music", v.boolean, "background music (the service now reads ``audio_option``).", annotation="bool"
        ),
        _AUDIO_OPTION,
    ),
    aliases=(Alias("background_music", "has_bg_music"), Alias("narrator", "audio_option", "narrator")),
    ignored=("seed", "generate_elements"),
)
CREATE_VIDEOS = Endpoint(
    "create_videos",
    "POST",
    "/story/{story_id}/videos",
    "form",
    "Animate the scenes and compose the story video (advanced step 3)",
    (
        _TITLE,
        _STORYBOARD,
        _IS_TRANSITION,
        Param(
            "motion_type",
            _choice(MOTION_TYPES, advisory=True),
            f"animation model, {_allowed(MOTION_TYPES, True)}.",
            "Auto",
        ),
        Param(
            "duration", partial(v.integer, minimum=1, maximum=10), "seconds per scene, 1 to 10.", 5, annotation="int"
        ),
        Param(
            "loop",
            partial(v.integer, minimum=1, maximum=6),
            "repetitions of the motion, 1 to 6 (ignored when narrated).",
            1,
            annotation="int",
        ),
        Param(
            "native_audio",
            v.boolean,
            "sound effects and lip sync (the service now reads ``audio_option``).",
            annotation="bool",
        ),
        _WEBHOOK_URL,
    ),
    ignored=("sound_effects", "scenes"),
    produces_video=True,
)
CONCAT_STORY = Endpoint(
    "concat_story",
    "POST",
    "/story/{story_id}/concat",
    "form",
    "Compose the story's videos into one",
    (
        Param(
            "concat_video_urls",
            v.url_list,
            "videos to compose instead of the story's own scene videos.",
            annotation=_URLS,
        ),
        Param("audio_urls", v.url_list, "background audio mixed into the composed video.", annotation=_URLS),
    ),
    produces_video=True,
)
UPDATE_STORY = Endpoint(
    "update_story",
    "PUT",
    "/story/{story_id}",
    "form",
    "Change a story's metadata; only the given fields are sent",
    (
        Param("title", _text, "new title."),
        Param("description", _text, "new description."),
        Param(
            "visibility_status",
            lambda n, x: v.choice(n, str(x), VISIBILITY_STATUSES),
            "``0`` private, ``1`` unlisted, ``2`` public.",
            annotation=_literal((*VISIBILITY_STATUSES, *map(int, VISIBILITY_STATUSES))),
        ),
        Param(
            "additional_videos",
            v.url_list,
            "video URLs to associate with the story (a JSON array).",
            form_json=True,
            annotation=_URLS,
        ),
    ),
    charges=False,
    ignored=("storyboard", "webhook_url"),
)

#: Every operation that takes parameters, by hook method name.
ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        IDEA_TO_VIDEO,
        URL_TO_VIDEO,
        IMAGES_TO_VIDEO,
        CREATE_STORYBOARD,
        CREATE_ELEMENTS,
        CREATE_SCENES,
        CREATE_VIDEOS,
        CONCAT_STORY,
        UPDATE_STORY,
    )
}
