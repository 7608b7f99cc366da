"""Counters and gauges through Airflow's ``Stats`` (StatsD or OpenTelemetry, as the deployment configures)."""

from __future__ import annotations

PREFIX = "vimmerse."


def incr(name: str, count: int = 1) -> None:
    """Add ``count`` to ``vimmerse.<name>``; metrics never fail a wait."""
    try:
        from airflow.providers.common.compat.sdk import Stats

        Stats.incr(PREFIX + name, count)
    except Exception:  # pragma: no cover - a broken metrics backend must not break waits
        pass


def gauge(name: str, value: float) -> None:
    """Set ``vimmerse.<name>``."""
    try:
        from airflow.providers.common.compat.sdk import Stats

        Stats.gauge(PREFIX + name, value)
    except Exception:  # pragma: no cover
        pass
