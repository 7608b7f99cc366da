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
_MOODS = ("playful", "hopeful", "adventurous", "warm", "dreamy", "bright")
_MOTIONS = ("dolly in", "zoom out", "pan right", "tilt up", "zoom in", "pan left", "dolly out", "tilt down")
_ANGLES = ("eye level", "low angle", "high angle", "wide shot")

# A tiny reading of the idea, no language model: its noun phrases ("a lighthouse keeper", "a
# curious whale") become the hero, the other and the place, and the narration is built around them.
_FRAMING = (
    r"^(please\s+)?(make|create|generate|write|tell)\s+(me\s+)?",
    r"^((a|an|the)\s+)?((short|cheerful|fun|funny|little|promotion|promotional|product|daily|new)\s+)*"
    r"(story|video|film|tale|clip|ad)\b\s*(about|of|for|where|in which|that|showing|:)?\s*",
)
_DETERMINERS = {"a", "an", "the", "some", "two", "three", "his", "her", "their", "its", "our", "my"}
_PLACE_WORDS = {"in", "at", "through", "across", "into", "near", "by", "under", "over", "on", "inside", "around"}
#: A phrase after one of these is a setting (a place or a time), never a character: "during a storm".
_TIME_WORDS = {"during", "throughout", "amid", "after", "before", "until", "since"}
_SETTING_WORDS = _PLACE_WORDS | _TIME_WORDS
_BOUNDARIES = _PLACE_WORDS | {
    *"who that which and but with while as to from of for when where because so then after before".split(),
    *"like about without between against during".split(),
}
_MAX_PHRASE_WORDS = 3
_ARC = (
    # (scene name, picture, narration): H the hero, O the other, P "in the place" (or a time).
    ("Meet {Hname}", "**{H}**{Pin}, as the story begins.", "{opening}"),
    ("{Oname}", "**{H}** meeting {Ob}.", "One morning, {H} came upon {O}."),
    ("A Hard Start", "**{H}** struggling with {Ob}.", "At first, nothing about {O} was easy."),
    ("Growing Closer", "**{H}** and {Ob}, side by side.", "Day by day, {H} learned more about {O}."),
    ("Everything Changes", "A surprise for **{H}**{Pin}.", "Then, {P}, everything changed."),
    ("A Celebration", "Everyone celebrates **{H}**{Pin}.", "Everyone gathered {P} to celebrate {H}."),
    ("Happy at Last", "**{H}** at sunset, with {Ob}.", "And so {HO} ended the day happily."),
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


def _core(idea: str) -> str:
    """The idea without its framing ("A short story:", "Make a video about ...") or final stop."""
    text = " ".join(idea.split()).strip().rstrip(".!?")
    for pattern in _FRAMING:
        text = re.sub(pattern, "", text, flags=re.IGNORECASE).strip()
    return text


def noun_phrases(idea: str) -> list[tuple[str, str, str]]:
    """
    The idea's noun phrases in order, as ``(preposition before it, determiner, words)``:
    "a lighthouse keeper who befriends a curious whale" gives ``("", "a", "lighthouse keeper")``
    and ``("", "a", "curious whale")``. A phrase starts at a determiner (or the idea's first word)
    and ends at a boundary word, before the next determiner, or after three words.
    """
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*|[,;:]", _core(idea))
    phrases, index = [], 0
    while index < len(tokens):
        word = tokens[index].lower()
        starts = word in _DETERMINERS or (index == 0 and word not in _BOUNDARIES)
        if not starts:
            index += 1
            continue
        before = tokens[index - 1].lower() if index and tokens[index - 1].lower() in _SETTING_WORDS else ""
        determiner = word if word in _DETERMINERS else ""
        index += 1 if determiner else 0
        words: list[str] = []
        while index < len(tokens) and len(words) < _MAX_PHRASE_WORDS:
            token, following = tokens[index], tokens[index + 1].lower() if index + 1 < len(tokens) else ""
            if token.lower() in _BOUNDARIES | _DETERMINERS or not token[0].isalpha():
                break
            if words and len(token) > 4 and token.lower().endswith(("ed", "ing")):
                break  # a participle after the noun: "clouds | shaped like", "honey | flowing from"
            words.append(token)
            index += 1
            if following in _DETERMINERS or following in _SETTING_WORDS:
                if len(words) > 1 and _is_verb(words, determiner, following):
                    words.pop()  # "a fox opens | a bakery", "a bunny walks | through the forest"
                break
        ahead = tokens[index].lower() if index < len(tokens) else ""
        if ahead in _BOUNDARIES - _SETTING_WORDS and len(words) > 1 and _is_verb(words, determiner, ahead):
            words.pop()  # "two robots learn | to dance"
        if words:
            proper = len(words) > 1 and all(w[0].isupper() for w in words)  # "Harbor Light Lantern"
            phrases.append((before, determiner, " ".join(words if proper else (w.lower() for w in words))))
    return phrases


def _is_verb(words: list[str], determiner: str, following: str) -> bool:
    """Whether a phrase's last word, just before a determiner or preposition, is its verb."""
    last, previous = words[-1].lower(), words[-2].lower()
    if following in _DETERMINERS:
        return True  # a noun phrase does not run into the next one's article
    if determiner in ("a", "an") and last.endswith("s") and not last.endswith("ss"):
        return True  # "a bunny walks": a singular subject's verb
    plural = previous.endswith("s") and not previous.endswith(("ss", "us", "is"))  # not "mysterious", "bus"
    return plural and not last.endswith("s")  # "animals play"


def _title(phrase: str) -> str:
    """Title case that keeps a proper noun's own capitals ("the Harbor Light Lantern")."""
    return " ".join(word if word[0].isupper() else word.capitalize() for word in phrase.split())


def _cast(idea: str) -> dict[str, Any]:
    """Every character, the hero first, and the setting of an idea, ready for the narration templates."""
    phrases = noun_phrases(idea)
    settings = [p for p in phrases if p[0]]
    people: list[tuple[str, str, str]] = []
    for phrase in [p for p in phrases if not p[0]] or phrases or [("", "a", "traveller")]:
        if phrase[2] not in [known[2] for known in people]:
            people.append(phrase)
    hero, others = people[0], people[1:]
    setting = settings[-1] if settings and settings[-1] is not hero else None
    where = ("in" if setting[0] in _PLACE_WORDS else setting[0]) if setting else ""
    definite = f"the {hero[2]}"
    other = f"the {others[0][2]}" if others else "the road ahead"
    both = f"{definite} and {other}" if others else definite
    tokens = _core(idea).split()
    after_hero = len(hero[2].split()) + 1  # its determiner, then its words
    if len(tokens) <= 9 and tokens[after_hero : after_hero + 1] in (["who"], ["that"], ["which"]):
        clause = " ".join(tokens)
        opening = f"This is the story of {clause[0].lower()}{clause[1:]}."
    else:
        # Every character the idea names, as it names them ("a girl and her dog").
        named = [f"{p[1] if p[1] and p[1] != 'some' else 'the'} {p[2]}" for p in people]
        listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        opening = f"This is the story of {listed}"
        if setting and len(f"{opening} {where} the {setting[2]}".split()) <= 14:
            opening += f" {where} the {setting[2]}"
        opening += "."
    return {
        "H": definite,
        "O": other,
        "HO": both,
        "P": f"{where} the {setting[2]}" if setting else "one evening",
        "Pin": f" {where} the {setting[2]}" if setting else "",
        "Hname": _title(definite).replace("The ", "the ", 1),
        "Oname": _title(other),
        "opening": opening,
        "characters": [f"the {p[2]}" for p in people],
        "setting": f"the {setting[2]}" if setting else "",
    }


def write_storyboard(idea: str, scene_count: int, seed: int | None = None) -> dict[str, Any]:
    """
    Write a storyboard in the service's shape: characters, environments, objects, scenes, music.

    The hero, the other character (or thing) and the place are the idea's own noun phrases, and
    the narration is a short arc around them in plain, grammatical sentences.

    :param idea: the user's idea.
    :param scene_count: how many scenes.
    :param seed: varies camera moves and mood; the same seed gives the same storyboard.
    """
    digest = hashlib.sha256(f"{idea}\0{seed}".encode()).hexdigest()
    rng = random.Random(digest)
    cast = _cast(idea)
    first_motion = rng.randrange(len(_MOTIONS))
    mood = rng.choice(_MOODS)
    fill = {**cast, "Ob": f"**{cast['O']}**"}
    scenes = []
    for index in range(scene_count):
        arc = (
            _ARC[0]
            if index == 0
            else _ARC[-1]
            if index == scene_count - 1 and scene_count > 1
            else _ARC[1 + (index - 1) % 5]
        )
        name, picture, narration = (part.format(**fill) for part in arc)
        scenes.append(
            {
                "name": f"Scene {index + 1}: {name[0].upper()}{name[1:]}",
                "image_description": picture[0].upper() + picture[1:] if picture[0] != "*" else picture,
                "video_description": (
                    f"camera motion:{_MOTIONS[(first_motion + 3 * index) % len(_MOTIONS)]}, "
                    f"camera angle:{rng.choice(_ANGLES)}, mood:{mood}"
                ),
                "narrator": narration[0].upper() + narration[1:],
            }
        )
    hero, *others = cast["characters"]
    characters = [{"name": hero, "description": f"The hero of the idea: {hero}."}]
    characters += [{"name": name, "description": f"Who (or what) {hero} meets."} for name in others]
    if not others:
        characters.append({"name": cast["O"], "description": f"Where {hero} is going."})
    place = cast["setting"]
    return {
        "characters": characters,
        "environments": [{"name": place, "description": f"A {mood} setting."}] if place else [],
        "objects": [],
        "scenes": scenes,
        "music": {"description": f"A {mood} instrumental theme for {cast['H']} and {cast['O']}."},
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
