"""
What a story will cost, before it is paid for: the service's published pricing of its automatic
modes, stated once here (the docs render it), and :func:`estimate_credits`.

Pure functions, no I/O. An estimate is an ``int`` of credits, or ``None`` when the price is not
published (an unknown ``video_tool``, a step without a price): never zero for "unknown".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._endpoints import ENDPOINTS

__all__ = [
    "PRICING_READ_ON",
    "RATES",
    "_check_credit_cap",
    "_credit_pool_slots",
    "describe_estimate",
    "estimate_credits",
]

#: When the published table below was read from the service's reference.
PRICING_READ_ON = "2026-11-30"
#: Credits per second of a scene, by video tool. The reference's table puts ``Vidu`` with the
#: standard tools (10), but its own worked example prices Vidu at 5 (3 scenes x 5 s -> 75 credits):
#: the example, the more specific statement, is what is used here.
RATES: dict[str, int] = {
    "Auto": 10,
    "KlingAI": 10,
    "Seedance": 10,
    "Pixverse": 10,
    "VeoFast": 10,
    "Vidu": 5,
    "AutoT1": 5,
    "PVideo": 5,
    "VeoLite": 5,
}
#: The steps with a published price, and the argument that names their video tool and scene length.
_PRICED = {
    "idea_to_video": ("video_tool", "scene_duration"),
    "url_to_video": ("video_tool", "scene_duration"),
    "images_to_video": ("video_tool", "scene_duration"),
    "create_videos": ("motion_type", "duration"),
}
#: Arguments that never change a price (and may be templates or URLs with tokens).
_UNPRICED = ("extra_params", "webhook_url")


def _default(step: str, name: str) -> Any:
    for param in ENDPOINTS[step].params:
        if param.keyword == name:
            return param.default
    return None


def _scene_count(step: str, arguments: Mapping[str, Any]) -> int | None:
    if step == "images_to_video":
        urls = arguments.get("image_urls")
        return len(v.url_list("image_urls", urls)) if urls is not None else None
    if step == "create_videos":
        board = arguments.get("storyboard")
        return len(v.storyboard("storyboard", board)["scenes"]) if board is not None else arguments.get("scene_count")
    count = arguments.get("scene_count")
    return v.integer("scene_count", count if count is not None else _default(step, "scene_count"), minimum=1)


def _native_audio(step: str, arguments: Mapping[str, Any]) -> bool:
    if step == "create_videos" and arguments.get("native_audio") is not None:
        return v.boolean("native_audio", arguments["native_audio"])
    option = arguments.get("audio_option")
    if option is None:
        return False
    return bool(v.audio_option("audio_option", option).get("native_audio", False))


def estimate_credits(step: str, **arguments: Any) -> int | None:
    """
    The credits the service's published pricing charges for ``step`` called with ``arguments``:
    rate(video tool) x scenes x seconds per scene x (2 with ``audio_option.native_audio``).
    Arguments left unset take the service's defaults as last seen (``video_tool="Auto"``,
    ``scene_count=3``, ``scene_duration=5``).

    :param step: the hook method's name, e.g. ``"idea_to_video"``.
    :return: the estimate, or ``None`` when no price is published (an unknown video tool, a step
        such as ``create_storyboard``, or ``create_videos`` without its storyboard).
    :raises VimmerseInvalidParameterError: for arguments that could not be sent either.
    """
    if step not in _PRICED:
        return None
    tool_name, seconds_name = _PRICED[step]
    given = _priced(arguments)
    for alias in ENDPOINTS[step].aliases:  # older names (motion_type, duration) set their new ones
        if alias.key is None and alias.old in given:
            given.setdefault(alias.new, given.pop(alias.old))
    tool = given.get(tool_name, _default(step, tool_name))
    rate = RATES.get(tool) if isinstance(tool, str) else None
    scenes = _scene_count(step, given)
    seconds = v.integer(seconds_name, given.get(seconds_name, _default(step, seconds_name)), minimum=1)
    if rate is None or scenes is None:
        return None
    return rate * int(scenes) * seconds * (2 if _native_audio(step, given) else 1)


def describe_estimate(step: str, arguments: Mapping[str, Any]) -> str:
    """How an estimate was made, in words, for messages: the formula with this call's values."""
    tool_name, seconds_name = _PRICED.get(step, ("video_tool", "scene_duration"))
    return (
        f"{step}: rate per second of {tool_name} {arguments.get(tool_name) or _default(step, tool_name)!r} x scenes "
        f"x {seconds_name} x 2 with native audio, from the pricing published by the service "
        f"(read {PRICING_READ_ON})"
    )


def _check_credit_cap(step: str, arguments: Mapping[str, Any], max_credits: Any) -> int | None:
    """
    The step's estimate, after checking it against ``max_credits`` (``None``: no cap).

    :raises VimmerseInsufficientCreditError: (not retried) when the estimate is above the
        cap or unknown, before anything is sent; the message gives both and how the estimate was made.
    """
    from airflow_provider_vimmerse.exceptions import VimmerseInsufficientCreditError

    given = _priced(arguments)
    estimate = estimate_credits(step, **given)
    if max_credits is None:
        return estimate
    cap = v.integer("max_credits", max_credits, minimum=0)
    if estimate is None or estimate > cap:
        said = "cannot be estimated" if estimate is None else f"is estimated at {estimate} credits"
        raise VimmerseInsufficientCreditError(
            f"Not sent: this {step} request {said}, and max_credits is {cap} ({describe_estimate(step, given)}). "
            "Nothing was charged. Raise max_credits, or change the request.",
            status_code=None,
        )
    return estimate


def _credit_pool_slots(step: str, arguments: Mapping[str, Any], max_credits: Any) -> int:
    """
    The Airflow pool slots a task of ``step`` occupies in a credit pool: its ``max_credits``, or the
    estimate of its arguments when they are literal (a templated value is known only at run time).

    :raises VimmerseInvalidParameterError: when neither is known when the DAG is parsed.
    """
    if max_credits is not None and not v.is_templated(max_credits):
        return v.integer("max_credits", max_credits, minimum=1)
    given = _priced(arguments)
    estimate = None if any(v.is_templated(val) for val in given.values()) else estimate_credits(step, **given)
    if not estimate:
        raise v.VimmerseInvalidParameterError(
            "credit_pool",
            step,
            "a literal max_credits, or literal arguments the published pricing can estimate (the pool's slots "
            "are credits, fixed when the DAG is parsed)",
        )
    return estimate


def _priced(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments that were set, without those that never change a price."""
    return {name: value for name, value in arguments.items() if value is not None and name not in _UNPRICED}
