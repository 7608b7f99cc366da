"""Story videos from clips: joined without re-encoding when they are the sandbox's own, scaled otherwise."""

from __future__ import annotations

import av
from PIL import Image

from vimmerse_sandbox import media


def _clip(path, size, colour, seconds=1.0, motion="pan left"):
    media.render_clip(Image.new("RGB", size, colour), motion, seconds, media.tone(seconds, "narration"), path)
    return path


def _frames(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0].codec_context
        frames = [frame.to_image() for frame in container.decode(video=0)]
        has_audio = bool(container.streams.audio)
    return (video.width, video.height), frames, has_audio


def test_own_clips_are_joined_in_order_with_every_frame_and_music(tmp_path):
    red = _clip(tmp_path / "red.mp4", (640, 360), (200, 30, 30), 1.0)
    blue = _clip(tmp_path / "blue.mp4", (640, 360), (30, 30, 200), 2.0, motion="zoom in")
    duration = media.concat_videos([red, blue.read_bytes()], tmp_path / "story.mp4", media.tone(1.0, "music"))
    size, frames, has_audio = _frames(tmp_path / "story.mp4")
    assert size == (640, 360) and has_audio
    assert len(frames) == 3 * media.FPS and duration == 3.0
    first, last = frames[0].getpixel((320, 180)), frames[-1].getpixel((320, 180))
    assert first[0] > 150 > first[2] and last[2] > 150 > last[0]
    with av.open(str(tmp_path / "story.mp4")) as container:
        assert abs(float(container.duration / 1_000_000) - 3.0) < 0.1


def test_clips_of_another_size_are_scaled_to_the_first(tmp_path):
    wide = _clip(tmp_path / "wide.mp4", (640, 360), (30, 200, 30))
    square = _clip(tmp_path / "square.mp4", (480, 480), (200, 200, 30))
    duration = media.concat_videos([wide, square], tmp_path / "story.mp4")
    size, frames, _ = _frames(tmp_path / "story.mp4")
    assert size == (640, 360) and len(frames) == 2 * media.FPS and duration == 2.0
    assert {frame.size for frame in frames} == {(640, 360)}
    last = frames[-1].getpixel((320, 180))
    assert last[0] > 150 and last[1] > 150 > last[2]
