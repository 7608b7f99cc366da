"""Which object storage schemes this Airflow can read and write (local files, and what providers register)."""

from __future__ import annotations

__all__ = ["LOCAL_PROTOCOLS", "storage_schemes"]

LOCAL_PROTOCOLS = ("", "file", "local")


def storage_schemes() -> set[str]:
    """Local files, and every filesystem an Airflow provider registers (s3, gs, ...)."""
    schemes = set(LOCAL_PROTOCOLS)
    try:
        from airflow.sdk.io.fs import _register_filesystems  # the registry ObjectStoragePath itself uses

        schemes |= set(_register_filesystems())
    except ImportError:  # pragma: no cover - every supported Airflow has it
        pass
    import fsspec

    return schemes | set(fsspec.registry)  # filesystems registered in this process (e.g. memory:// in tests)
