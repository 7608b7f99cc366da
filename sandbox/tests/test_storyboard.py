"""The deterministic storyboard writer and camera-motion parsing: pure logic."""

from __future__ import annotations

import pytest

from vimmerse_sandbox.media import SAMPLE_RATE, camera_motion, frame_size, tone
from vimmerse_sandbox.storyboard import keywords, storyboard_from_images, storyboard_from_page, write_storyboard


def wav_bytes(seconds: float = 1.0) -> bytes:
    """A short WAV tone, as a user's own music file."""
    import io
    import wave
    from array import array

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(array("h", tone(seconds, "user music")).tobytes())
    return out.getvalue()


def test_same_idea_and_seed_give_the_same_storyboard():
    assert write_storyboard("A fox opens a bakery", 4, 1) == write_storyboard("A fox opens a bakery", 4, 1)
    assert write_storyboard("A fox opens a bakery", 4, 1) != write_storyboard("A fox opens a bakery", 4, 2)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 12])
def test_storyboard_has_the_documented_shape(count):
    board = write_storyboard("Cute animals play the musical instruments", count, 5)
    assert len(board["scenes"]) == count
    assert {"characters", "environments", "objects", "scenes", "music"} <= board.keys()
    names = [scene["name"] for scene in board["scenes"]]
    assert len(set(names)) == count
    for scene in board["scenes"]:
        assert "**" in scene["image_description"]
        assert scene["video_description"].startswith("camera motion:")
        assert 3 <= len(scene["narrator"].split()) <= 14


def test_keywords_skip_filler_words():
    assert keywords("Make a promotion video that cute animals play the musical instruments") == [
        "animals",
        "musical",
        "instruments",
    ]


@pytest.mark.parametrize(
    ("description", "motion"),
    [
        ("camera motion:dolly in, camera angle:eye level", "dolly in"),
        ("camera motion: Pan Left", "pan left"),
        ("slow tilt up", "tilt up"),
        ("", "static"),
    ],
)
def test_camera_motion(description, motion):
    assert camera_motion(description) == motion


def test_frame_sizes_follow_the_aspect_ratio():
    assert frame_size("16:9") == (640, 360) and frame_size("9:16") == (360, 640) and frame_size("1:1") == (480, 480)


def test_a_page_becomes_scenes_with_its_headings_text_and_images():
    page = "<title>T</title><h1>One</h1><p>First line. Second line.</p><img src='a.png'><h2>Two</h2>"
    board = storyboard_from_page(page, "https://shop.example/p/", 3)
    assert [s["name"] for s in board["scenes"]] == ["Scene 1: One", "Scene 2: Two", "Scene 3: One"]
    assert board["scenes"][1]["narrator"] == "Second line."
    assert board["scenes"][0]["image_url"] == "https://shop.example/p/a.png"


def test_images_become_one_scene_each():
    board = storyboard_from_images("Hello there. Goodbye.", ["https://i/1.png", "https://i/2.png"])
    assert [s["image_url"] for s in board["scenes"]] == ["https://i/1.png", "https://i/2.png"]
    assert [s["narrator"] for s in board["scenes"]] == ["Hello there.", "Goodbye."]
