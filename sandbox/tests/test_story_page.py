"""A story's page for people: status, credits, the video, and every scene's image and narration."""

from __future__ import annotations

import requests
from sandbox_helpers import post_json, wait


def test_a_finished_story_has_a_page_with_its_scenes_and_video(sandbox):
    created = post_json(
        sandbox, "/v2/story/idea-2-video", {"idea": "A lighthouse keeper befriends a seal", "scene_count": 2}
    )
    story = wait(sandbox, created.json()["id"], video=True)
    page = requests.get(f"{sandbox.url}/stories/{story['id']}", timeout=10)  # no key: the id is the link
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert f'<video controls src="{story["video_url"]}">' in html
    assert "success (100%)" in html and f"<td>{story['used_credits']}</td>" in html
    scenes = story["storyboard"]["scenes"]
    assert len(scenes) == 2
    for scene in scenes:
        assert f'<img src="{scene["image_url"]}"' in html
        assert scene["narrator"].replace("'", "&#x27;") in html
        assert requests.get(scene["image_url"], timeout=10).status_code == 200  # the images load on loopback


def test_an_unknown_story_has_no_page(sandbox):
    assert requests.get(f"{sandbox.url}/stories/00000000-0000-4000-8000-000000000000", timeout=10).status_code == 404


def test_the_page_escapes_what_the_story_says(sandbox):
    created = post_json(sandbox, "/v2/story/idea-2-video", {"idea": "<script>alert(1)</script> meets a cat"})
    wait(sandbox, created.json()["id"])
    html = requests.get(f"{sandbox.url}/stories/{created.json()['id']}", timeout=10).text
    assert "<script>" not in html
