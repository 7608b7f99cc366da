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
}


def poll_interval() -> float:
    """``[vimmerse] poll_interval``, checked like the operator argument it stands in for."""
    from airflow.providers.common.compat.sdk import conf

    from airflow_provider_vimmerse import validation as v

    value = conf.get(SECTION, "poll_interval", fallback="")
    if not value.strip():
        return DEFAULT_POLL_INTERVAL
    return v.number(f"[{SECTION}] poll_interval", value.strip(), minimum=MIN_POLL_INTERVAL)
