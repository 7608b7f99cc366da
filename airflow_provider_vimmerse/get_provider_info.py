"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_vimmerse import __version__
from airflow_provider_vimmerse._config import API_VERSIONS, OPTIONS, SECTION

__all__ = ["get_provider_info"]

_INTEGRATION = "Vimmerse"


def _number_field(label: str, description: str, minimum: float = 0) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": ["number", "null"], "minimum": minimum}}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata (hooks, connection form, operators, links)."""
    return {
        "package-name": "airflow-provider-vimmerse",
        "name": "Vimmerse",
        "description": "Turn an idea or a storyboard into a narrated story video with the Vimmerse Story API.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://vimmerse.net",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_vimmerse.hooks.vimmerse",
                    "airflow_provider_vimmerse.hooks.vimmerse_async",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider_vimmerse.operators.story",
                    "airflow_provider_vimmerse.operators.download",
                ],
            }
        ],
        "sensors": [{"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_vimmerse.sensors.story"]}],
        "triggers": [
            {"integration-name": _INTEGRATION, "python-modules": ["airflow_provider_vimmerse.triggers.story"]}
        ],
        "asset-uris": [
            {
                "schemes": ["vimmerse"],
                "handler": "airflow_provider_vimmerse.assets.sanitize_uri",
                "to_openlineage_converter": "airflow_provider_vimmerse.assets.convert_asset_to_openlineage",
                "factory": "airflow_provider_vimmerse.assets.create_asset",
            }
        ],
        "extra-links": [
            "airflow_provider_vimmerse.links.story.VimmerseVideoLink",
            "airflow_provider_vimmerse.links.story.VimmerseStoryLink",
        ],
        "config": {
            SECTION: {
                "description": "Defaults for every Vimmerse operator, sensor and trigger in this deployment.",
                "options": OPTIONS,
            }
        },
        "connection-types": [
            {
                "connection-type": "vimmerse",
                "hook-class-name": "airflow_provider_vimmerse.hooks.vimmerse.VimmerseHook",
                "hook-name": "Vimmerse",
                "ui-field-behaviour": {
                    "hidden-fields": ["login", "schema"],
                    "relabeling": {"password": "API Key", "host": "API URL"},
                    "placeholders": {
                        "host": "https://api.vimmerse.net (default when empty)",
                        "port": "443 (optional: the API URL's port)",
                    },
                },
                "conn-fields": {
                    "api_version": {
                        "label": "Story API version",
                        "description": "v2 (/v2/story/..., JSON everywhere; the default) or legacy "
                        "(/story/..., the unversioned paths the service labels Legacy).",
                        "schema": {"type": "string", "enum": list(API_VERSIONS), "default": API_VERSIONS[0]},
                    },
                    # The form's minimums are the ones the hook accepts (ConnectionSettings).
                    "timeout": _number_field(
                        "Request timeout (s)", "Read timeout of one API request. Default 60.", 0.001
                    ),
                    "connect_timeout": _number_field("Connect timeout (s)", "Default 10.", 0.001),
                    "retry_limit": {
                        "label": "Retry limit",
                        "description": "Retries of a failed request (connection errors, 429, 5xx). "
                        "Requests that create or charge are retried only when they provably did not "
                        "reach the service. Default 3; 0 disables.",
                        "schema": {"type": ["integer", "null"], "minimum": 0},
                    },
                    "retry_delay": _number_field(
                        "Retry delay (s)", "First backoff; doubles each retry, with jitter. Default 1."
                    ),
                    "max_retry_delay": _number_field(
                        "Max retry delay (s)", "Cap of one backoff, and the longest Retry-After honoured. Default 60."
                    ),
                    "verify_ssl": {
                        "label": "Verify TLS certificates",
                        "description": "Default true.",
                        "schema": {"type": ["boolean", "null"], "default": True},
                    },
                    "story_url_template": {
                        "label": "Story page URL template",
                        "description": "e.g. https://vimmerse.net/story/{story_id}; enables the story-page link.",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
