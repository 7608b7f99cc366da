"""
A deterministic storyboard writer: the same idea and seed always give the same story.

No language model: the idea's key words are woven into a small story arc, so the result reads
sensibly and every scene is different. Narration lines stay short (a few seconds of speech).
"""

from __future__ import annotations

import hashlib
import random
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

_STOPWORDS = {
    *"a an and are as at be by for from has have in into is it its make makes made of on or that the their".split(),
    *"them then there these they this to was were will with video story promotion about who what where when".split(),
    *"which while your you our we us me my i generate create style shows show".split(),
}
_HEROES = ("Pip", "Luna", "Milo", "Nova", "Juniper", "Otis", "Wren", "Ziggy", "Hazel", "Basil")
_PLACES = ("Whispering Forest", "Harbor Town", "Crystal Cavern", "Sunlit Meadow", "Neon City", "Cloud Garden")
_MOODS = ("playful", "hopeful", "adventurous", "warm", "dreamy", "bright")
_MOTIONS = ("dolly in", "zoom out", "pan right", "tilt up", "zoom in", "pan left", "dolly out", "tilt down")
_ANGLES = ("eye level", "low angle", "high angle", "wide shot")
_ARC = (
    ("Opening", "{hero} arrives at the {place}.", "Our story begins as {hero} arrives at the {place}."),
    ("Discovery", "{hero} discovers the {thing}.", "Then {hero} discovers the secret of the {topic}."),
    ("Challenge", "{hero} faces a challenge with the {thing}.", "But the {topic} are harder than they look."),
    ("Friendship", "{hero} and {friend} team up.", "{friend} joins in, and they try together."),
    ("Turning Point", "A bright idea strikes {hero}.", "A bright idea changes everything."),
    ("Celebration", "Everyone celebrates around the {thing}.", "Everyone cheers for the {subject} and the {topic}."),
    ("Finale", "{hero} waves goodbye at sunset.", "And that is how {hero} found joy with the {subject}."),
)


def keywords(idea: str, limit: int = 3) -> list[str]:
    """The idea's most telling words, in order of first appearance."""
    words = [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", idea)]
    seen: list[str] = []
    for word in words:
        if word not in _STOPWORDS and len(word) > 2 and word not in seen:
            seen.append(word)
    ranked = sorted(seen, key=lambda w: (-len(w), seen.index(w)))[:limit]
    return sorted(ranked, key=seen.index) or ["adventure"]


def write_storyboard(idea: str, scene_count: int, seed: int | None = None) -> dict[str, Any]:
    """
    Write a storyboard in the service's shape: characters, environments, objects, scenes, music.

    :param idea: the user's idea.
    :param scene_count: how many scenes.
    :param seed: varies names, places and camera moves; the same seed gives the same storyboard.
    """
    digest = hashlib.sha256(f"{idea}\0{seed}".encode()).hexdigest()
    rng = random.Random(digest)
    words = keywords(idea)
    topic = words[-1]
    subject = words[0] if len(words) > 1 else "friends"
    hero, friend = rng.sample(_HEROES, 2)
    place = rng.choice(_PLACES)
    thing = "golden " + (topic[:-1] if topic.endswith("s") and not topic.endswith("ss") else topic)
    first_motion = rng.randrange(len(_MOTIONS))
    mood = rng.choice(_MOODS)
    fill = {"hero": hero, "friend": friend, "place": place, "thing": thing, "topic": topic, "subject": subject}
    scenes = []
    for index in range(scene_count):
        arc = (
            _ARC[0]
            if index == 0
            else _ARC[-1]
            if index == scene_count - 1 and scene_count > 1
            else _ARC[1 + (index - 1) % 5]
        )
        name, picture, narration = arc
        bold = {k: f"**{v}**" for k, v in fill.items()}
        scenes.append(
            {
                "name": f"Scene {index + 1}: {name}",
                "image_description": picture.format(**bold) + f" Inspired by: {subject}, {topic}.",
                "video_description": (
                    f"camera motion:{_MOTIONS[(first_motion + 3 * index) % len(_MOTIONS)]}, "
                    f"camera angle:{rng.choice(_ANGLES)}, mood:{mood}"
                ),
                "narrator": narration.format(**fill),
            }
        )
    return {
        "characters": [
            {"name": hero, "description": f"A curious hero who loves the {topic}."},
            {"name": friend, "description": f"{hero}'s loyal friend."},
        ],
        "environments": [{"name": place, "description": f"A {mood} place where the story unfolds."}],
        "objects": [{"name": thing, "description": f"A small token that stands for the {topic}."}],
        "scenes": scenes,
        "music": {"description": f"A {mood} instrumental theme about {subject} and {topic}."},
    }


class _PageReader(HTMLParser):
    """The parts of a web page a storyboard is built from: title, headings, paragraphs, images."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.headings: list[str] = []
        self.paragraphs: list[str] = []
        self.images: list[str] = []
        self._tag: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src)
        elif tag in ("title", "h1", "h2", "h3", "p", "li"):
            self._tag, self._text = tag, []

    def handle_data(self, data: str) -> None:
        if self._tag:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != self._tag:
            return
        text = " ".join("".join(self._text).split())
        if text:
            if tag == "title":
                self.title = text
            elif tag in ("h1", "h2", "h3"):
                self.headings.append(text)
            else:
                self.paragraphs.append(text)
        self._tag = None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]


def storyboard_from_page(html: str, url: str, scene_count: int, instructions: str = "") -> dict[str, Any]:
    """
    A storyboard from a web page: the title names the story, headings name the scenes, the text
    is narrated, and the page's own images become the scene images.
    """
    reader = _PageReader()
    reader.feed(html)
    title = reader.title or (reader.headings[0] if reader.headings else urlsplit(url).netloc)
    sentences = [s for p in reader.paragraphs for s in _sentences(p)] or [f"Discover {title}."]
    images = [urljoin(url, src) for src in reader.images if urlsplit(urljoin(url, src)).scheme in ("http", "https")]
    headings = reader.headings or [title]
    scenes = []
    for index in range(scene_count):
        heading = headings[index % len(headings)]
        scene = {
            "name": f"Scene {index + 1}: {heading}",
            "image_description": f"**{title}**: {heading}. {instructions}".strip(),
            "video_description": f"camera motion:{_MOTIONS[index % len(_MOTIONS)]}, camera angle:eye level",
            "narrator": sentences[index % len(sentences)],
        }
        if images:
            scene["image_url"] = images[index % len(images)]
        scenes.append(scene)
    return {
        "characters": [],
        "environments": [],
        "objects": [{"name": title, "description": f"The subject of {url}."}],
        "scenes": scenes,
        "music": {"description": f"An upbeat theme for {title}."},
    }


def storyboard_from_images(idea: str, image_urls: list[str]) -> dict[str, Any]:
    """A storyboard with one scene per given image, narrated from the idea."""
    words = keywords(idea or "your pictures")
    lines = _sentences(idea) or [f"A story about {', '.join(words)}."]
    scenes = [
        {
            "name": f"Scene {index + 1}",
            "image_description": f"Image {index + 1} of the story.",
            "video_description": f"camera motion:{_MOTIONS[index % len(_MOTIONS)]}, camera angle:eye level",
            "narrator": lines[index % len(lines)],
            "image_url": url,
        }
        for index, url in enumerate(image_urls)
    ]
    return {
        "characters": [],
        "environments": [],
        "objects": [],
        "scenes": scenes,
        "music": {"description": "A warm theme."},
    }
