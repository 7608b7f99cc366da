"""
The ``vimmerse`` Asset URI scheme: ``vimmerse://<api host>/story/<id>`` names a story, registered
in the provider info (``asset-uris``) with its OpenLineage converter, so an ``Asset("vimmerse://...")``
outlet is the same dataset the story operators report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

if TYPE_CHECKING:
    from airflow.sdk import Asset

__all__ = ["convert_asset_to_openlineage", "create_asset", "sanitize_uri"]

_DEFAULT_API_HOST = "api.vimmerse.net"


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Accept ``vimmerse://<api host>/story/<id>`` (or another path under a host); refuse the rest."""
    if not uri.netloc:
        raise ValueError("A vimmerse:// URI names the API host: vimmerse://api.vimmerse.net/story/<id>")
    if not uri.path.strip("/"):
        raise ValueError("A vimmerse:// URI names what it is about: vimmerse://<api host>/story/<id>")
    return uri


def create_asset(*, story_id: str, api_host: str = _DEFAULT_API_HOST, extra: dict[str, Any] | None = None) -> Asset:
    """The Asset of a story."""
    from airflow.sdk import Asset

    return Asset(uri=f"vimmerse://{api_host}/story/{story_id}", extra=extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """The OpenLineage dataset of a ``vimmerse://`` asset: namespace ``vimmerse://<host>``, name ``story/<id>``."""
    from urllib.parse import urlsplit

    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(asset.uri)
    return Dataset(namespace=f"vimmerse://{parts.netloc}", name=parts.path.lstrip("/"))
