"""Clients for the sandbox's own tests: raw HTTP calls, MP4 inspection, a scripted file host."""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import av
import requests

API_KEY = "sandbox-test-key-5e1f"
HEADERS = {"X-Api-Key": API_KEY}
TEST_SPEED = 200.0


def post(server: Any, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
    """A form (or multipart, with ``files``) POST, as the step endpoints take."""
    kwargs.setdefault("timeout", 30)
    return requests.post(f"{server.url}{path}", data=data, headers=HEADERS, **kwargs)


def post_json(server: Any, path: str, body: dict[str, Any]) -> requests.Response:
    """A JSON POST, as the auto modes take."""
    return requests.post(f"{server.url}{path}", json=body, headers=HEADERS, timeout=30)


def stats(server: Any) -> dict[str, Any]:
    return requests.get(f"{server.url}/_sandbox/stats", headers=HEADERS, timeout=5).json()


def add_fault(server: Any, **spec: Any) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json=spec, headers=HEADERS, timeout=5).raise_for_status()


def wait(server: Any, story_id: str, timeout: float = 90, video: bool = False) -> dict[str, Any]:
    """Poll until the story is terminal (and, with ``video``, has its video); return its data."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        story = requests.get(f"{server.url}/story/{story_id}", headers=HEADERS, timeout=10).json()["data"]
        if story["status"] == "fail" or (story["status"] == "success" and (story["video_url"] or not video)):
            return story
        time.sleep(0.05)
    raise AssertionError(f"story {story_id} did not finish in {timeout}s")


def probe(data: bytes) -> dict[str, Any]:
    """Streams, size and duration of an MP4, decoding every frame to prove it plays."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video=0))
        return {
            "video_codec": video.codec_context.name,
            "audio_codec": audio.codec_context.name if audio else None,
            "size": (video.codec_context.width, video.codec_context.height),
            "duration": float(container.duration) / 1_000_000,
            "frames": frames,
        }


def first_frame_mean(data: bytes) -> tuple[float, ...]:
    from PIL import ImageStat

    with av.open(io.BytesIO(data)) as container:
        image = next(container.decode(video=0)).to_image().convert("RGB")
    return tuple(ImageStat.Stat(image).mean)


def audio_peak(data: bytes) -> int:
    from vimmerse_sandbox.media import decode_audio

    return max((abs(s) for s in decode_audio(data)), default=0)


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | dict[str, Any] = b""
    headers: dict[str, str] = field(default_factory=dict)


class FileHost:
    """A tiny HTTP server on loopback serving scripted files and recording every request (a user's CDN)."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.default = Reply(status=404)
        self.requests: list[tuple[str, str, bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.requests.append((self.command, self.path, self.rfile.read(length) if length else b""))
                reply = owner.routes.get(self.path, owner.default)
                body = reply.body
                body = (
                    json.dumps(body).encode()
                    if isinstance(body, dict)
                    else body.encode()
                    if isinstance(body, str)
                    else body
                )
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FileHost:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
