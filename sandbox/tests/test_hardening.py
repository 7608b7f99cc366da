"""The sandbox runs in users' CI: its admin API, what it fetches, and what it decodes are guarded."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image
from sandbox_helpers import API_KEY, HEADERS, FileHost, Reply, post, post_json, stats, wait

from vimmerse_sandbox import net
from vimmerse_sandbox.pipeline import SandboxConfig
from vimmerse_sandbox.server import SandboxServer


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/_sandbox/stats"),
        ("GET", "/_sandbox/faults"),
        ("POST", "/_sandbox/faults"),
        ("DELETE", "/_sandbox/faults"),
        ("PUT", "/_sandbox/credits"),
    ],
)
def test_admin_endpoints_need_the_key(sandbox, method, path):
    response = requests.request(method, f"{sandbox.url}{path}", json={"credits": 1}, timeout=5)
    assert response.status_code == 401
    assert (
        requests.request(method, f"{sandbox.url}{path}", json={}, headers={"X-Api-Key": "wrong"}, timeout=5).status_code
        == 401
    )


def test_admin_endpoints_take_json_whatever_the_content_type(sandbox):
    # What `curl -d '{...}'` sends: a JSON body labelled as a form.
    form_type = {**HEADERS, "Content-Type": "application/x-www-form-urlencoded"}
    added = requests.post(
        f"{sandbox.url}/_sandbox/faults", data='{"kind": "status", "status": 503}', headers=form_type, timeout=5
    )
    assert added.status_code == 200 and "id" in added.json()
    credits = requests.put(f"{sandbox.url}/_sandbox/credits", data='{"credits": 7}', headers=form_type, timeout=5)
    assert credits.json() == {"credits": 7} and stats(sandbox)["credits"] == 7


def test_a_public_interface_with_the_default_key_is_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vimmerse_sandbox", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "default API key" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/a.png",
        "http://192.168.1.1/a.png",
        "http://[fe80::1]/a.png",
        "http://user:pw@127.0.0.1/a.png",
        "http://evil.example\\@127.0.0.1/a.png",
        "ftp://127.0.0.1/a.png",
    ],
)
def test_forbidden_urls_are_refused_before_any_connection(url):
    with pytest.raises(net.FetchRefused):
        net.check_url(url, allow_private=False)


def test_a_story_whose_image_is_on_a_private_address_fails_with_the_reason(sandbox):
    story = post_json(sandbox, "/story/images-2-video", {"image_urls": ["http://10.1.2.3/cat.png"]}).json()["data"]
    done = wait(sandbox, story["id"])
    assert done["status"] == "fail" and "private or link-local" in done["message"]


def test_private_webhooks_are_refused_at_submission(sandbox):
    response = post_json(sandbox, "/story/idea-2-video", {"idea": "x", "webhook_url": "http://169.254.169.254/hook"})
    assert response.status_code == 400 and "webhook_url" in response.json()["detail"]
    assert stats(sandbox)["stories_created"] == 0


def test_oversized_downloads_are_cut_off(sandbox, monkeypatch):
    monkeypatch.setattr(net, "MAX_FETCH_BYTES", 1000)
    with FileHost() as host:
        host.routes["/big.png"] = Reply(body=b"x" * 5000, headers={"Content-Type": "image/png"})
        story = post_json(sandbox, "/story/images-2-video", {"image_urls": [f"{host.url}/big.png"]}).json()["data"]
        done = wait(sandbox, story["id"])
    assert done["status"] == "fail" and "larger than" in done["message"]


def test_decompression_bombs_are_refused(sandbox):
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG")  # a few KB on the wire, 144 megapixels decoded
    with FileHost() as host:
        host.routes["/bomb.png"] = Reply(body=bomb.getvalue(), headers={"Content-Type": "image/png"})
        story = post_json(sandbox, "/story/images-2-video", {"image_urls": [f"{host.url}/bomb.png"]}).json()["data"]
        done = wait(sandbox, story["id"])
    assert done["status"] == "fail" and "pixel limit" in done["message"]


def test_concurrent_steps_on_one_story_are_charged_once(tmp_path):
    # Slow enough that the elements job is still running when the last of the 20 requests lands.
    with SandboxServer(SandboxConfig(data_dir=tmp_path / "sandbox", api_key=API_KEY, speed=2)) as sandbox:
        story = wait(sandbox, post(sandbox, "/story", files=[("idea", (None, "Race"))]).json()["data"]["id"])
        before = stats(sandbox)["credits"]
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda _: post(sandbox, f"/story/{story['id']}/elements").status_code, range(20)))
        assert codes.count(200) == 1 and codes.count(400) == 19
        assert before - stats(sandbox)["credits"] == 2  # one elements job


def test_unknown_story_ids_are_checked_before_anything_else(sandbox):
    assert post(sandbox, f"/story/{uuid.uuid4()}/elements").status_code == 404
