"""Reading what the sandbox rendered: MP4 streams and frames (PyAV, Pillow), as a user would check them."""

from __future__ import annotations

import io
from typing import Any

import av


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
    """The mean colour of the first frame."""
    from PIL import ImageStat

    with av.open(io.BytesIO(data)) as container:
        image = next(container.decode(video=0)).to_image().convert("RGB")
    return tuple(ImageStat.Stat(image).mean)
