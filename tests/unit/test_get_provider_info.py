"""The connection form Airflow renders from the provider info."""

from __future__ import annotations

from airflow_provider_vimmerse.get_provider_info import get_provider_info

FIELDS = get_provider_info()["connection-types"][0]["conn-fields"]


def test_tls_verification_is_shown_on_for_a_new_connection():
    assert FIELDS["verify_ssl"]["schema"]["default"] is True


def test_the_forms_minimums_are_the_ones_the_hook_accepts():
    from types import SimpleNamespace

    from airflow_provider_vimmerse.hooks._transport import ConnectionSettings

    for name in ("timeout", "connect_timeout"):
        lowest = FIELDS[name]["schema"]["minimum"]
        conn = SimpleNamespace(conn_id="c", host="", schema=None, port=None, password="k", extra_dejson={name: lowest})
        assert getattr(ConnectionSettings.from_connection(conn), name) == lowest
