"""
Real media for the sandbox: images (Pillow), clips and story videos (PyAV: H.264 + AAC).

Audio is mono 16-bit at :data:`SAMPLE_RATE`, handled as ``array('h')`` so no numpy is needed.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
from array import array
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw, ImageFont

FPS = 24
SAMPLE_RATE = 22050
FRAME_SIZES = {"16:9": (640, 360), "9:16": (360, 640), "1:1": (480, 480), "4:3": (480, 360), "3:4": (360, 480)}
_MOTION_HEADROOM = 1.2
_NOTES = (261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25)


def frame_size(aspect_ratio: str) -> tuple[int, int]:
    """Pixel size of images and videos for an aspect ratio (16:9 when unknown)."""
    return FRAME_SIZES.get(aspect_ratio, FRAME_SIZES["16:9"])


def _palette(key: str) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(key.encode()).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 30, 3)]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


CAMERA_MOTIONS = (
    "static",
    "zoom in",
    "zoom out",
    "dolly in",
    "dolly out",
    "pan left",
    "pan right",
    "tilt up",
    "tilt down",
)


def safe_area(size: tuple[int, int]) -> tuple[float, float, float, float]:
    """
    The part of a frame-sized image that every frame of every camera move shows (left, top, right,
    bottom, in the image's pixels). Text drawn inside it is never cut by the motion crop.
    """
    # Every move's window changes linearly with time, so its first and last frames bound it.
    boxes = [_crop_box(motion, t, size) for motion in CAMERA_MOTIONS for t in (0.0, 1.0)]
    scale = _MOTION_HEADROOM
    return (
        max(box[0] for box in boxes) / scale,
        max(box[1] for box in boxes) / scale,
        min(box[2] for box in boxes) / scale,
        min(box[3] for box in boxes) / scale,
    )


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` pixels (a word longer than that is cut)."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            while draw.textlength(word, font=font) > width and len(word) > 1:
                word = word[:-1]
            lines.append(word)
    return lines


def _draw_text(
    draw: ImageDraw.ImageDraw, title: str, caption: str, area: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """Draw the title at the top and the caption at the bottom of ``area``; return the box they cover."""
    left, top, right, bottom = area
    height = bottom - top
    pad = max(4.0, (right - left) / 50)
    left, top, right, bottom = left + pad, top + pad, right - pad, bottom - pad
    title_font, caption_font = _font(max(14, round(height / 11))), _font(max(10, round(height / 17)))
    title_lines = _wrap(draw, title, title_font, right - left)[:2]
    line_height = caption_font.size + 4
    caption_lines = _wrap(draw, caption, caption_font, right - left)
    room = max(1, int((height / 2 - pad) // line_height))
    if len(caption_lines) > room:
        caption_lines = [*caption_lines[: room - 1], caption_lines[room - 1].rstrip(".,;") + "..."]
        while draw.textlength(caption_lines[-1], font=caption_font) > right - left:
            caption_lines[-1] = caption_lines[-1][:-4] + "..."
    style = {"fill": (255, 255, 255), "stroke_fill": (0, 0, 0)}
    boxes = []
    if title_lines:
        text = "\n".join(title_lines)
        draw.multiline_text((left, top), text, font=title_font, stroke_width=2, **style)
        boxes.append(draw.multiline_textbbox((left, top), text, font=title_font, stroke_width=2))
    if caption_lines:
        text = "\n".join(caption_lines)
        extent = draw.multiline_textbbox((0, 0), text, font=caption_font, stroke_width=1, spacing=4)
        origin = (left, bottom - extent[3])
        draw.multiline_text(origin, text, font=caption_font, stroke_width=1, spacing=4, **style)
        boxes.append(draw.multiline_textbbox(origin, text, font=caption_font, stroke_width=1, spacing=4))
    if not boxes:
        return (left, top, left, top)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def render_card(
    key: str, title: str, caption: str, size: tuple[int, int], thumbnails: Sequence[Image.Image] = ()
) -> Image.Image:
    """
    Draw a deterministic picture for a scene or element: a gradient, shapes, the title and caption.

    The text lies inside :func:`safe_area`, so a clip's camera move never cuts it; its box is in
    ``image.info["text_box"]``.

    :param key: what makes the picture unique (same key, same picture).
    :param thumbnails: element images shown in the corner, for character consistency.
    """
    width, height = size
    colours = _palette(key)
    top, bottom = colours[0], colours[1]
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line([(0, y), (width, y)], fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
    digest = hashlib.sha256(("shapes" + key).encode()).digest()
    for i in range(5):
        x, y = digest[i * 4] / 255 * width, digest[i * 4 + 1] / 255 * height
        r = 10 + digest[i * 4 + 2] / 255 * min(size) / 4
        box = [x - r, y - r, x + r, y + r]
        fill = colours[2 + i]
        (draw.ellipse if digest[i * 4 + 3] % 2 else draw.rectangle)(box, fill=fill, outline=(255, 255, 255))
    for i, thumb in enumerate(thumbnails[:3]):
        side = min(size) // 5
        image.paste(thumb.resize((side, side)), (width - (side + 8) * (i + 1), 8))
    image.info["text_box"] = _draw_text(draw, title, caption, safe_area(size))
    return image


# Caller-supplied files are decoded within bounds: a small file must not expand into gigabytes.
MAX_IMAGE_PIXELS = 40_000_000
MAX_AUDIO_SECONDS = 15 * 60


class MediaRefused(ValueError):
    """A caller-supplied file would decode into more than the sandbox accepts."""


def open_image(data: bytes) -> Image.Image:
    """Decode a caller-supplied image to RGB, refusing decompression bombs."""
    with Image.open(io.BytesIO(data)) as image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise MediaRefused(
                f"image of {image.width}x{image.height} pixels is over the {MAX_IMAGE_PIXELS} pixel limit"
            )
        return image.convert("RGB")


def fit_image(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Open a caller-supplied image and scale/crop it to cover ``size`` exactly."""
    image = open_image(data)
    width, height = size
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))))
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return resized.crop((left, top, left + width, top + height))


def camera_motion(video_description: str) -> str:
    """The camera move named in a scene's ``video_description`` ("camera motion:dolly in, ...")."""
    match = re.search(r"camera motion\s*:\s*([a-z ]+)", video_description.lower())
    words = match.group(1) if match else video_description.lower()
    for motion in CAMERA_MOTIONS[1:]:
        if motion in words:
            return motion
    return "static"


def _crop_box(motion: str, t: float, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The window of the enlarged image shown at time fraction ``t`` for a camera move."""
    width, height = size
    big_w, big_h = width * _MOTION_HEADROOM, height * _MOTION_HEADROOM
    if motion in ("zoom in", "dolly in", "zoom out", "dolly out"):
        zoom = t if motion.endswith("in") else 1 - t
        scale = 1 + (_MOTION_HEADROOM - 1) * zoom
        w, h = big_w / scale, big_h / scale
        return ((big_w - w) / 2, (big_h - h) / 2, (big_w + w) / 2, (big_h + h) / 2)
    dx = (big_w - width) * (t if motion == "pan right" else 1 - t if motion == "pan left" else 0.5)
    dy = (big_h - height) * (1 - t if motion == "tilt up" else t if motion == "tilt down" else 0.5)
    return (dx, dy, dx + width, dy + height)


def crop_windows(motion: str, frames: int, size: tuple[int, int]) -> list[tuple[float, float, float, float]]:
    """The window of the image, enlarged by the motion headroom, that each of a clip's frames shows."""
    return [_crop_box(motion, i / max(1, frames - 1), size) for i in range(frames)]


def tone(seconds: float, key: str, volume: float = 0.2) -> array:
    """Deterministic background music: a soft chord progression chosen by ``key``."""
    digest = hashlib.sha256(key.encode()).digest()
    total = int(seconds * SAMPLE_RATE)
    out = array("h")
    beat = SAMPLE_RATE // 2
    for start in range(0, total, beat):
        chord = tuple(_NOTES[(digest[(start // beat) % 32] + k * 2) % len(_NOTES)] for k in range(3))
        out.extend(_beat(chord, volume)[: total - start])
    return out


@functools.lru_cache(maxsize=64)
def _beat(chord: tuple[float, ...], volume: float) -> array:
    """Half a second of ``chord``, fading: a few dozen chords make every story's music."""
    beat = SAMPLE_RATE // 2
    steps = [2 * math.pi * f / SAMPLE_RATE for f in chord]
    scale = 32767 * volume / 3
    return array("h", (int(scale * (1 - n / beat * 0.6) * sum(math.sin(s * n) for s in steps)) for n in range(beat)))


def mix(base: array, overlay: array, gain: float = 1.0) -> array:
    """Add ``overlay`` (scaled by ``gain``) onto ``base``, clipping to 16 bits; length of ``base``."""
    out = array("h", base)
    for i in range(min(len(base), len(overlay))):
        out[i] = max(-32768, min(32767, int(base[i] + overlay[i] * gain)))
    return out


def fit_length(samples: array, total: int) -> array:
    """Pad with silence or cut to exactly ``total`` samples."""
    if len(samples) >= total:
        return samples[:total]
    return samples + array("h", bytes(2 * (total - len(samples))))


class _Writer:
    """An MP4 being written: H.264 video at :data:`FPS`, mono AAC audio."""

    def __init__(self, path: Path, size: tuple[int, int], copy_of: Any = None) -> None:
        """:param copy_of: a video stream whose packets are copied as they are (none encoded here)."""
        self.container = av.open(str(path), "w", format="mp4")
        self.copying = copy_of is not None
        if copy_of is not None:
            self.video = self.container.add_stream_from_template(copy_of)
        else:
            self.video = self.container.add_stream("libx264", rate=FPS)
            self.video.width, self.video.height = size
            self.video.pix_fmt = "yuv420p"
            self.video.options = {"preset": "ultrafast", "crf": "28"}
        self.audio = self.container.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        self.frames = 0

    def add_image(self, image: Image.Image) -> None:
        frame = av.VideoFrame.from_image(image)
        frame.pts = self.frames
        frame.time_base = Fraction(1, FPS)
        self.frames += 1
        self.container.mux(self.video.encode(frame))

    def add_audio(self, samples: array) -> None:
        chunk = 1024
        for start in range(0, len(samples), chunk):
            part = samples[start : start + chunk]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(part))
            frame.planes[0].update(part.tobytes())
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            frame.time_base = Fraction(1, SAMPLE_RATE)
            self.container.mux(self.audio.encode(frame))

    def add_packets(self, clip: Any) -> None:
        """Append the encoded video of ``clip`` (an open container) after what is written so far."""
        stream = clip.streams.video[0]
        offset = round(self.frames / FPS / stream.time_base)
        for packet in clip.demux(stream):
            if packet.dts is None:  # the demuxer's end-of-stream marker
                continue
            packet.pts += offset
            packet.dts += offset
            packet.stream = self.video
            self.container.mux(packet)
            self.frames += 1

    def close(self) -> None:
        if not self.copying:
            self.container.mux(self.video.encode(None))
        self.container.mux(self.audio.encode(None))
        self.container.close()


def render_clip(image: Image.Image, motion: str, seconds: float, narration: array, path: Path) -> None:
    """Animate ``image`` with a camera move for ``seconds`` over the narration; write an MP4 to ``path``."""
    size = image.size
    big = image.resize((round(size[0] * _MOTION_HEADROOM), round(size[1] * _MOTION_HEADROOM)), Image.BILINEAR)
    frames = max(1, round(seconds * FPS))
    writer = _Writer(path, size)
    try:
        for left, top, right, bottom in crop_windows(motion, frames, size):
            if round(right - left) == size[0] and round(bottom - top) == size[1]:  # a pan: a crop is enough
                x, y = round(left), round(top)
                writer.add_image(big.crop((x, y, x + size[0], y + size[1])))
            else:
                writer.add_image(big.resize(size, Image.BILINEAR, box=(left, top, right, bottom)))
        writer.add_audio(fit_length(narration, round(frames / FPS * SAMPLE_RATE)))
    finally:
        writer.close()


def decode_audio(data_or_path: bytes | Path) -> array:
    """Decode any audio (or a video's audio track) to mono 16-bit samples at :data:`SAMPLE_RATE`."""
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else str(data_or_path)
    out = array("h")
    with av.open(source) as container:
        if not container.streams.audio:
            return out
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        for frame in container.decode(audio=0):
            for resampled in resampler.resample(frame):
                out.frombytes(bytes(resampled.planes[0])[: resampled.samples * 2])
            if len(out) > MAX_AUDIO_SECONDS * SAMPLE_RATE:
                raise MediaRefused(f"audio longer than {MAX_AUDIO_SECONDS} s")
        for resampled in resampler.resample(None):
            out.frombytes(bytes(resampled.planes[0])[: resampled.samples * 2])
    return out


def _open(source: bytes | Path) -> Any:
    return av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))


def _copyable(sources: Sequence[bytes | Path]) -> bool:
    """
    Whether every source's video can be copied into one file as it is (the sandbox's own clips:
    H.264 of one size and frame rate, identical parameter sets).
    """
    shapes = set()
    for source in sources:
        with _open(source) as container:
            if not container.streams.video:
                return False
            stream = container.streams.video[0]
            codec = stream.codec_context
            if codec.name != "h264" or stream.average_rate != FPS or codec.width % 2 or codec.height % 2:
                return False
            shapes.add((codec.width, codec.height, stream.time_base, bytes(codec.extradata or b"")))
    return len(shapes) == 1


def concat_videos(
    sources: Sequence[bytes | Path], path: Path, music: array | None = None, music_gain: float = 0.35
) -> float:
    """
    Join videos end to end (scaled to the first one's size), mix ``music`` under their audio,
    and write the result to ``path``. The sandbox's own clips are joined without re-encoding.

    :return: the duration of the written video in seconds.
    """
    writer: _Writer | None = None
    audio = array("h")
    copying = bool(sources) and _copyable(sources)
    try:
        for source in sources:
            with _open(source) as container:
                stream = container.streams.video[0]
                if writer is None:
                    size = (stream.codec_context.width // 2 * 2, stream.codec_context.height // 2 * 2)
                    writer = _Writer(path, size, copy_of=stream if copying else None)
                before = writer.frames
                if copying:
                    writer.add_packets(container)
                else:
                    for frame in container.decode(stream):
                        image = frame.to_image()
                        if image.size != (writer.video.width, writer.video.height):
                            image = image.resize((writer.video.width, writer.video.height))
                        writer.add_image(image)
                clip_frames = writer.frames - before
            clip_audio = decode_audio(source if isinstance(source, bytes) else Path(source))
            audio.extend(fit_length(clip_audio, round(clip_frames / FPS * SAMPLE_RATE)))
        if writer is None or not writer.frames:
            raise ValueError("no video frames to concatenate")
        if music is not None and len(music):
            looped = array("h")
            while len(looped) < len(audio):
                looped.extend(music)
            audio = mix(audio, looped, music_gain)
        writer.add_audio(audio)
        return writer.frames / FPS
    finally:
        if writer is not None:
            writer.close()
