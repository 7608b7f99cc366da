"""
The connections list's **Test** button, through a real api-server: the same REST calls the UI
makes (the Add form's ``POST /api/v2/connections``, then ``POST /api/v2/connections/test`` with
the body the list's Test button builds from the listed connection).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.conftest import API_KEY
from tests.integration.airflow_processes import executor_airflow

pytestmark = pytest.mark.processes


def _add_form_body(connection_id: str, host: str, port: str, password: str) -> dict[str, Any]:
    """What the UI's Add dialog posts: empty fields are left out, the port field becomes a number."""
    body = {
        "conn_type": "vimmerse",
        "connection_id": connection_id,
        "host": host,
        "password": password,
        "extra": json.dumps({"api_version": "v2", "retry_limit": 0}),
    }
    if port:
        body["port"] = int(port)
    return body


def _test_button_body(listed: dict[str, Any]) -> dict[str, Any]:
    """What the list's Test button posts for a listed connection (``port: Number(port)``, blanks as "")."""
    extra = listed.get("extra")
    return {
        "conn_type": listed["conn_type"],
        "connection_id": listed["connection_id"],
        "description": listed.get("description") or "",
        "extra": "{}" if extra in ("", None) else extra,
        "host": listed.get("host") or "",
        "login": listed.get("login") or "",
        "password": listed.get("password") or "",
        "port": listed.get("port") or 0,  # Number(null) is 0
        "schema": listed.get("schema") or "",
    }


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    settings = {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
    with executor_airflow(home, settings) as env:
        base = env["AIRFLOW__API__BASE_URL"]
        token = requests.get(f"{base}/auth/token", timeout=30).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        yield base, session


def _press_test(api_server, connection_id: str, host: str, port: str, password: str) -> dict[str, Any]:
    base, session = api_server
    added = session.post(f"{base}/api/v2/connections", json=_add_form_body(connection_id, host, port, password))
    assert added.status_code == 201, added.text
    listed = session.get(f"{base}/api/v2/connections/{connection_id}", timeout=30).json()
    assert listed["password"] != password  # the UI only ever sees the key masked
    answer = session.post(f"{base}/api/v2/connections/test", json=_test_button_body(listed), timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("with_port", [True, False], ids=["port-stored", "no-port"])
def test_the_test_button_accepts_a_good_connection(api_server, sandbox, with_port):
    # Without a port the UI sends port 0, which Airflow 3.3 refuses unless our plugin's middleware
    # leaves it out (airflow_provider_vimmerse.plugins.connection_test_port).
    port = sandbox.url.rsplit(":", 1)[1] if with_port else ""
    result = _press_test(api_server, f"vimmerse_good_{with_port}", sandbox.url, port, API_KEY)
    assert result["status"] is True, result
    assert "the API key was accepted" in result["message"] and sandbox.url in result["message"]


def test_the_test_button_names_a_rejected_key(api_server, sandbox):
    port = sandbox.url.rsplit(":", 1)[1]
    result = _press_test(api_server, "vimmerse_bad_key", sandbox.url, port, "not-the-key")
    assert result["status"] is False
    assert "API key was rejected" in result["message"] and "401" in result["message"], result
    assert "not-the-key" not in result["message"]


def test_the_test_button_names_an_unreachable_api(api_server, sandbox):
    url = sandbox.url
    sandbox.stop()
    result = _press_test(api_server, "vimmerse_down", url, url.rsplit(":", 1)[1], API_KEY)
    assert result["status"] is False and "not reachable" in result["message"], result
