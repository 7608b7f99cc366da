"""Which object storage schemes this Airflow can read and write (local files, and what providers register)."""

from __future__ import annotations

__all__ = ["LOCAL_PROTOCOLS", "STORAGE_SCHEMES_HINT", "is_storage_scheme"]

LOCAL_PROTOCOLS = ("", "file", "local")
#: For messages: the registry's full list is not public, so name the common cases.
STORAGE_SCHEMES_HINT = "file://, and s3://, gs://, ... when their Airflow provider is installed"


def is_storage_scheme(scheme: str) -> bool:
    """A local file, a filesystem an Airflow provider registers (s3, gs, ...), or one fsspec knows in-process."""
    if scheme in LOCAL_PROTOCOLS:
        return True
    from airflow.sdk.io.fs import has_fs  # the registry ObjectStoragePath itself uses

    if has_fs(scheme):
        return True
    import fsspec  # type: ignore[import-untyped]

    return scheme in fsspec.registry  # registered in this process (e.g. memory:// in tests)
