"""
An example helper, not part of the provider: a storyboard preview, one PNG contact sheet of a
story's scene images with their names and narration, so a reviewer sees the story before paying
for animation. Needs Pillow. The example DAGs import it from the DAGs folder; copy it next to
your own DAGs to use it.
"""

from __future__ import annotations

import io
import tempfile
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_vimmerse.hooks.vimmerse import VimmerseHook

THUMB_WIDTH = 320
COLUMNS = 3
_CAPTION_LINES = 4


def contact_sheet(title: str, scenes: list[dict[str, Any]], images: list[bytes]) -> bytes:
    """
    Lay out scene images in a grid, each with its name above and its narration below.

    :param title: heading of the sheet.
    :param scenes: storyboard scenes (``name``, ``narrator``), in order.
    :param images: the scenes' image bytes, in the same order.
    :return: the PNG bytes.
    """
    from PIL import Image, ImageDraw, ImageFont

    thumbs = []
    for data in images:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        thumbs.append(image.resize((THUMB_WIDTH, max(1, round(image.height * THUMB_WIDTH / image.width)))))
    thumb_height = max((t.height for t in thumbs), default=180)
    font, small = ImageFont.load_default(size=18), ImageFont.load_default(size=13)
    cell_w, cell_h = THUMB_WIDTH + 20, thumb_height + 30 + _CAPTION_LINES * 16 + 20
    columns = max(1, min(COLUMNS, len(thumbs)))
    rows = max(1, -(-len(thumbs) // columns))
    sheet = Image.new("RGB", (columns * cell_w + 20, rows * cell_h + 60), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    draw.text((20, 15), title, font=ImageFont.load_default(size=24), fill=(20, 20, 20))
    for index, (scene, thumb) in enumerate(zip(scenes, thumbs)):
        x, y = 20 + (index % columns) * cell_w, 60 + (index // columns) * cell_h
        draw.text((x, y), str(scene.get("name") or f"Scene {index + 1}"), font=font, fill=(30, 30, 30))
        sheet.paste(thumb, (x, y + 26))
        caption = textwrap.wrap(str(scene.get("narrator") or ""), width=44)[:_CAPTION_LINES]
        draw.multiline_text((x, y + 32 + thumb.height), "\n".join(caption), font=small, fill=(70, 70, 70))
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def storyboard_preview(hook: VimmerseHook, story_id: str) -> bytes:
    """
    Fetch a story's scene images and return its contact sheet as PNG bytes.

    :raises ValueError: when the story's scenes have no images yet (run the scenes step first).
    """
    story = hook.get_story(story_id)
    scenes = (story.storyboard or {}).get("scenes") or []
    if not scenes or not all(scene.get("image_url") for scene in scenes):
        raise ValueError(f"Story {story_id} has no scene images yet; create the scenes first.")
    images = []
    with tempfile.TemporaryDirectory(prefix="vimmerse-preview-") as scratch:
        for index, scene in enumerate(scenes):
            result = hook.download_video(scene["image_url"], str(Path(scratch) / f"{index}.img"))
            images.append(Path(result.path).read_bytes())
    return contact_sheet(story.title or f"Story {story.id}", scenes, images)


def review_markdown(hook: VimmerseHook, story_id: str) -> str:
    """
    An approval prompt in Markdown: the story's link, then each scene's name, image and narration.

    The images are the story's own http(s) URLs, so the Airflow UI renders them for the reviewer
    (a worker-local file would not open in the reviewer's browser).
    """
    story = hook.get_story(story_id)
    link = hook.story_url(story_id)
    lines = [f"Story [{story.title or story_id}]({link})" if link else f"Story {story.title or ''} `{story_id}`", ""]
    for index, scene in enumerate((story.storyboard or {}).get("scenes") or [], start=1):
        name = scene.get("name") or f"Scene {index}"
        lines += [f"**{name}**", ""]
        if scene.get("image_url"):
            lines += [f"![{name}]({scene['image_url']})", ""]
        lines += [f"> {scene.get('narrator') or '(no narration)'}", ""]
    return "\n".join(lines)
