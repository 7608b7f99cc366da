"""
A story's page, as a person sees it (the live service has one per story): its status and credits,
the video, and every scene with its image and narration. Plain HTML, no script, on loopback.
"""

from __future__ import annotations

from html import escape
from typing import Any


def story_page(story: dict[str, Any]) -> str:
    """The HTML page of ``story`` (the stored story, as the API would answer it)."""
    title = story.get("title") or story.get("idea") or story["id"]
    board = story.get("storyboard") or {}
    scenes = board.get("scenes") or story.get("scenes") or []
    video = story.get("video_url") or ""
    rows = [
        ("Status", f"{story.get('status', '')} ({int(story.get('progress_percentage') or 0)}%)"),
        ("Credits used", str(story.get("used_credits") or 0)),
        ("Story id", story["id"]),
    ]
    if story.get("message"):
        rows.append(("Message", story["message"]))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "img,video{max-width:100%}li{margin-bottom:1.5rem}th{text-align:left;padding-right:1rem}</style>",
        "</head><body>",
        f"<h1>{escape(title)}</h1>",
        "<table>",
        *(f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in rows),
        "</table>",
    ]
    if video:
        parts.append(f'<h2>Video</h2><video controls src="{escape(video)}"></video>')
    else:
        parts.append("<p>No video yet: reload this page when the story is done.</p>")
    parts.append("<h2>Scenes</h2><ol>")
    for index, scene in enumerate(scenes):
        name = scene.get("name") or f"Scene {index + 1}"
        image = scene.get("image_url") or ""
        parts.append(f"<li><h3>{escape(name)}</h3>")
        if image:
            parts.append(f'<img src="{escape(image)}" alt="{escape(name)}">')
        parts.append(f"<p>{escape(scene.get('narrator') or '')}</p></li>")
    parts.append("</ol></body></html>")
    return "\n".join(parts)
