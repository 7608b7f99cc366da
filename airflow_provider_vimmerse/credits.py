"""
What a story will cost, before it is paid for: the service's published pricing of its automatic
modes, stated once here (the docs render it), and :func:`estimate_credits`.

Pure functions, no I/O. An estimate is an ``int`` of credits, or ``None`` when the price is not
published (an unknown ``video_tool``, a step without a price): never zero for "unknown".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_vimmerse import _validation as v
from airflow_provider_vimmerse._endpoints import ENDPOINTS

__all__ = ["PRICING_READ_ON", "RATES", "VimmerseCreditBudget", "describe_estimate", "estimate_credits"]

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


class VimmerseCreditBudget:
    """
    A daily credit budget shared by every task, in every DAG, that names it: a story task reserves
    its estimate (or ``max_credits``) before it submits and settles the story's ``used_credits``
    after, so the credits reserved and spent on one UTC day never pass ``daily_credits``.

    It is kept in an Airflow Variable (``vimmerse_credit_budget_<name>``), the state every Airflow
    component already shares, on every executor and Airflow version, visible and editable in the
    UI. A Variable has no compare-and-set, so a reservation is written, left to settle for
    ``[vimmerse] budget_settle_seconds`` and read back: a reservation lost to a concurrent write is
    made again, and of several made at once, the earliest that fit keep theirs and the others fail.
    Two tasks can both pass only if one took longer than the settle time between reading and
    writing the Variable; the budget is then overshot by at most that task's reservation.

    :param name: the budget's name (letters, digits, ``_``, ``-``).
    :param daily_credits: the most credits the tasks naming it may reserve and spend per UTC day
        (a whole number, or a string of one as a template renders it).
    """

    def __init__(self, name: str, daily_credits: int | str) -> None:
        if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
            raise v.VimmerseInvalidParameterError("daily_budget", name, "a name of letters, digits, '_' or '-'")
        self.name = name
        self.daily_credits = v.integer("daily_budget_credits", daily_credits, minimum=0)
        self.key = f"vimmerse_credit_budget_{name}"

    def _read(self) -> dict[str, Any]:
        import json

        import pendulum
        from airflow.sdk import Variable

        today = pendulum.now("UTC").date().isoformat()
        try:
            state = json.loads(Variable.get(self.key, default="{}") or "{}")
        except ValueError:
            state = {}
        if not isinstance(state, dict) or state.get("day") != today or not isinstance(state.get("holds"), dict):
            return {"day": today, "holds": {}}
        return state

    def _write(self, state: dict[str, Any]) -> None:
        import json

        from airflow.sdk import Variable

        Variable.set(self.key, json.dumps(state, sort_keys=True), description="Vimmerse daily credit budget")

    @staticmethod
    def _used(holds: Mapping[str, Any]) -> int:
        return sum(int(hold.get("credits", 0)) for hold in holds.values())

    def remaining(self) -> int:
        """Credits not yet reserved or spent today (UTC)."""
        return self._left(self._read()["holds"])

    def _left(self, holds: Mapping[str, Any]) -> int:
        return max(0, self.daily_credits - self._used(holds))

    def _reserve(self, holder: str, credits: int, *, attempts: int = 5) -> int:
        """
        Hold ``credits`` for ``holder`` (one task instance; a retry keeps its hold); return what is
        left today after it.

        :raises VimmerseInsufficientCreditError: when they do not fit in what is left today.
        """
        import time

        from airflow_provider_vimmerse import _config as config
        from airflow_provider_vimmerse.exceptions import VimmerseInsufficientCreditError, VimmerseUnavailableError

        settle = config.budget_settle_seconds()
        for _ in range(attempts):
            state = self._read()
            if holder in state["holds"]:
                return self._left(state["holds"])
            if self._used(state["holds"]) + credits > self.daily_credits:
                raise VimmerseInsufficientCreditError(
                    f"Not sent: daily budget {self.name!r} has {self._left(state['holds'])} of {self.daily_credits} "
                    f"credits left today (UTC) and this story needs {credits}. Nothing was charged; the budget "
                    "renews at midnight UTC.",
                    status_code=None,
                )
            state["holds"][holder] = {"credits": credits, "at": time.time(), "settled": False}
            self._write(state)
            time.sleep(settle)
            state = self._read()
            if holder not in state["holds"]:
                continue  # overwritten by a concurrent reservation: make it again
            # Of reservations made at once, the earliest that fit keep theirs.
            running = 0
            for name, hold in sorted(state["holds"].items(), key=lambda item: (item[1].get("at", 0), item[0])):
                running += int(hold.get("credits", 0))
                if name == holder and running > self.daily_credits:
                    self._release(holder)
                    raise VimmerseInsufficientCreditError(
                        f"Not sent: daily budget {self.name!r} was taken by tasks that reserved at the same time. "
                        "Nothing was charged.",
                        status_code=None,
                    )
            return self._left(state["holds"])
        raise VimmerseUnavailableError(
            f"Could not reserve credits in daily budget {self.name!r}: its Variable kept changing under us."
        )

    def _settle(self, holder: str, used: int | None) -> None:
        """Replace ``holder``'s reservation with what its story used (kept as reserved when unknown)."""
        if used is not None:
            self._change(holder, lambda hold: {**hold, "credits": int(used), "settled": True})

    def _release(self, holder: str) -> None:
        """Give back a reservation whose request was never sent."""
        self._change(holder, lambda hold: None)

    def _change(self, holder: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
        """Rewrite (or, for ``None``, drop) ``holder``'s hold, and read it back as a reservation is."""
        import time

        from airflow_provider_vimmerse import _config as config

        for _ in range(5):
            state = self._read()
            if holder not in state["holds"]:
                return
            wanted = change(state["holds"][holder])
            if wanted is None:
                del state["holds"][holder]
            else:
                state["holds"][holder] = wanted
            self._write(state)
            time.sleep(config.budget_settle_seconds())
            if self._read()["holds"].get(holder) == wanted:
                return
