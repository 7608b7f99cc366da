"""Small clients for sandbox tests: raw HTTP calls and MP4 inspection."""

from __future__ import annotations

import io
import time
from typing import Any

import av
import requests

from tests.conftest import API_KEY

HEADERS = {"X-Api-Key": API_KEY}


def post(server: Any, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
    return requests.post(f"{server.url}{path}", data=data, headers=HEADERS, timeout=30, **kwargs)


def wait(server: Any, story_id: str, timeout: float = 90) -> dict[str, Any]:
    """Poll until the story is terminal; return its data."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        story = requests.get(f"{server.url}/story/{story_id}", headers=HEADERS, timeout=10).json()["data"]
        if story["status"] in ("success", "fail"):
            return story
        time.sleep(0.05)
    raise AssertionError(f"story {story_id} did not finish in {timeout}s")


def probe(data: bytes) -> dict[str, Any]:
    """Streams, size and duration of an MP4, decoding every frame to prove it plays."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video=0))
        info = {
            "video_codec": video.codec_context.name,
            "audio_codec": audio.codec_context.name if audio else None,
            "size": (video.codec_context.width, video.codec_context.height),
            "duration": float(container.duration) / 1_000_000,
            "frames": frames,
        }
    return info


def first_frame_mean(data: bytes) -> tuple[float, float, float]:
    from PIL import ImageStat

    with av.open(io.BytesIO(data)) as container:
        image = next(container.decode(video=0)).to_image().convert("RGB")
    return tuple(ImageStat.Stat(image).mean)


def audio_peak(data: bytes) -> int:
    from airflow_provider_vimmerse.sandbox.media import decode_audio

    samples = decode_audio(data)
    return max((abs(s) for s in samples), default=0)
