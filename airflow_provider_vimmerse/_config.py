"""
The provider's ``[vimmerse]`` configuration section (declared in the provider info, settable as
``AIRFLOW__VIMMERSE__<OPTION>``): deployment-wide defaults that DAG files need not repeat.
"""

from __future__ import annotations

# Airflow reads this module while it loads its own configuration: it must import nothing of Airflow
# (or of this provider that does) at module level.

SECTION = "vimmerse"
DEFAULT_POLL_INTERVAL = 30.0
#: Polling faster than once a second only spends the API quota.
MIN_POLL_INTERVAL = 1.0

DEFAULT_FALLBACK_POLL_INTERVAL = 600.0
DEFAULT_BUDGET_SETTLE_SECONDS = 2.0
#: The Story API generations a connection can speak (its ``api_version`` extra); the first is the default.
API_VERSIONS = ("v2", "legacy")

#: The options, as the provider info declares them (``airflow config list`` shows them).
OPTIONS = {
    "poll_interval": {
        "description": "Seconds between status polls of a waiting story operator or sensor when the DAG "
        "does not set poll_interval (or poke_interval). At least 1.",
        "version_added": "0.2.0",
        "type": "float",
        "example": "10",
        "default": str(DEFAULT_POLL_INTERVAL),
    },
    "webhook_bind": {
        "description": "host:port on which each triggerer listens for Vimmerse webhooks (one small HTTP server "
        "per triggerer, shared by every waiting Vimmerse trigger). Empty (the default): webhooks are off and "
        "waits poll. Needs webhook_public_url too.",
        "version_added": "0.2.0",
        "type": "string",
        "example": "0.0.0.0:8790",
        "default": "",
    },
    "webhook_public_url": {
        "description": "The base URL at which Vimmerse reaches the triggerers' webhook listener (e.g. through an "
        "ingress or reverse proxy). Deferred story operators put <this URL>/vimmerse/webhook/<token> on the "
        "requests that accept a webhook_url. Empty (the default): no webhook_url is added.",
        "version_added": "0.2.0",
        "type": "string",
        "example": "https://airflow-hooks.example.com",
        "default": "",
    },
    "webhook_relay": {
        "description": "Relay webhooks through the metadata database (Airflow Variables), so that one received "
        "by the api-server's /vimmerse/webhook route wakes its wait "
        "within about a second whichever triggerer runs it. Each triggerer holding webhook waits reads each "
        "receiver's Variable every 0.5 s, however many waits it holds. False: a webhook wakes only a wait on "
        "the triggerer whose listener received it.",
        "version_added": "0.2.0",
        "type": "boolean",
        "example": "True",
        "default": "True",
    },
    "webhook_fallback_poll_interval": {
        "description": "Seconds between the safety-net status polls of a wait that expects a webhook: a lost "
        "webhook, or one delivered to another triggerer, still ends the wait this late at most. At least 1.",
        "version_added": "0.2.0",
        "type": "float",
        "example": "600",
        "default": str(DEFAULT_FALLBACK_POLL_INTERVAL),
    },
    "output_base": {
        "description": "Where the example DAGs write their videos and manifests when a run does not say (their "
        "output_base param): any ObjectStoragePath URI, e.g. s3://bucket/videos with the Amazon provider. Set it "
        "once per deployment; /tmp is only the last fallback.",
        "version_added": "0.2.0",
        "type": "string",
        "example": "s3://my-bucket/vimmerse",
        "default": "file:///tmp/vimmerse-output",
    },
    "budget_settle_seconds": {
        "description": "Seconds a daily credit budget's reservation is left to settle before it is read back "
        "(Airflow Variables have no compare-and-set: two tasks reserving the last credits at once are told "
        "apart by reading back). Longer is safer against a slow metadata database; each story task that "
        "names a budget waits this long once before submitting.",
        "version_added": "0.2.0",
        "type": "float",
        "example": "2",
        "default": str(DEFAULT_BUDGET_SETTLE_SECONDS),
    },
}


def _get(option: str) -> str:
    from airflow.providers.common.compat.sdk import conf

    return (conf.get(SECTION, option, fallback="") or "").strip()


def _seconds(option: str, default: float, minimum: float = MIN_POLL_INTERVAL) -> float:
    from airflow_provider_vimmerse import _validation as v
    from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError, VimmerseInvalidParameterError

    value = _get(option)
    if not value:
        return default
    try:
        return v.number(f"[{SECTION}] {option}", value, minimum=minimum)
    except VimmerseInvalidParameterError:
        example = OPTIONS[option]["example"]
        raise VimmerseConfigurationError(
            f"[{SECTION}] {option} is {value!r}; expected seconds as a number >= {minimum:g}, "
            f"e.g. {example} (AIRFLOW__{SECTION.upper()}__{option.upper()}={example})."
        ) from None


def poll_interval() -> float:
    """``[vimmerse] poll_interval``, checked like the operator argument it stands in for."""
    return _seconds("poll_interval", DEFAULT_POLL_INTERVAL)


def webhook_fallback_poll_interval() -> float:
    """``[vimmerse] webhook_fallback_poll_interval``: the safety-net poll of a wait expecting a webhook."""
    return _seconds("webhook_fallback_poll_interval", DEFAULT_FALLBACK_POLL_INTERVAL)


def budget_settle_seconds() -> float:
    """``[vimmerse] budget_settle_seconds``: how long a daily budget's reservation settles before it is read back."""
    return _seconds("budget_settle_seconds", DEFAULT_BUDGET_SETTLE_SECONDS, minimum=0)


def webhook_bind() -> tuple[str, int] | None:
    """``[vimmerse] webhook_bind`` as ``(host, port)``; ``None`` when webhooks are off."""
    from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError

    value = _get("webhook_bind")
    if not value:
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise VimmerseConfigurationError(
            f"[{SECTION}] webhook_bind is {value!r}; expected host:port, e.g. 0.0.0.0:8790 (or empty for no webhooks)."
        )
    return host.strip("[]"), int(port)


def webhook_relay() -> bool:
    """``[vimmerse] webhook_relay``: whether webhooks travel between receivers and triggerers (default on)."""
    from airflow_provider_vimmerse.exceptions import VimmerseConfigurationError

    value = _get("webhook_relay").lower()
    if value in ("", "true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise VimmerseConfigurationError(f"[{SECTION}] webhook_relay is {value!r}; expected True or False.")


def webhook_public_url() -> str:
    """``[vimmerse] webhook_public_url`` without a trailing slash; empty when webhooks are off."""
    from airflow_provider_vimmerse import _validation as v

    value = _get("webhook_public_url")
    return v.http_url(f"[{SECTION}] webhook_public_url", value).rstrip("/") if value else ""
