"""The deterministic storyboard writer and camera-motion parsing: pure logic."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.sandbox.media import camera_motion, frame_size
from airflow_provider_vimmerse.sandbox.storyboard import keywords, write_storyboard


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
    assert keywords("Make a promotion video that cute animals play the musical instruments") == ["animals", "musical", "instruments"]


@pytest.mark.parametrize(
    ("description", "motion"),
    [("camera motion:dolly in, camera angle:eye level", "dolly in"), ("camera motion: Pan Left", "pan left"), ("slow tilt up", "tilt up"), ("", "static")],
)
def test_camera_motion(description, motion):
    assert camera_motion(description) == motion


def test_frame_sizes_follow_the_aspect_ratio():
    assert frame_size("16:9") == (640, 360) and frame_size("9:16") == (360, 640) and frame_size("1:1") == (480, 480)
