"""The deterministic storyboard writer and camera-motion parsing: pure logic."""

from __future__ import annotations

import pytest

from vimmerse_sandbox import media
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


@pytest.mark.parametrize("aspect_ratio", sorted(media.FRAME_SIZES))
def test_scene_text_lies_inside_every_frame_of_every_camera_move(aspect_ratio):
    size = media.frame_size(aspect_ratio)
    caption = "The keeper rows out at dawn and finds the whale waiting by the rocks, singing a low song. " * 3
    card = media.render_card("key", "Scene 2: Discovery at the Lighthouse Rocks", caption, size)
    left, top, right, bottom = (edge * media._MOTION_HEADROOM for edge in card.info["text_box"])
    assert right - left > size[0] / 3  # there is text to check
    for motion in media.CAMERA_MOTIONS:
        for x0, y0, x1, y1 in media.crop_windows(motion, 5 * media.FPS, size):
            assert x0 <= left and y0 <= top and right <= x1 and bottom <= y1, (motion, (x0, y0, x1, y1))


@pytest.mark.parametrize(
    ("idea", "subjects", "place"),
    [
        (
            "A short story: a lighthouse keeper who befriends a curious whale.",
            ("lighthouse keeper", "curious whale"),
            None,
        ),
        ("A fox opens a bakery", ("fox", "bakery"), None),
        ("A bunny walks through the forest and finds honey flowing from a tree", ("bunny", "tree"), "forest"),
    ],
)
def test_the_storyboard_is_made_of_the_ideas_own_words(idea, subjects, place):
    board = write_storyboard(idea, 5, 1)
    hero, other = subjects
    assert [c["name"] for c in board["characters"]] == [f"the {hero}", f"the {other}"]
    narration = " ".join(scene["narrator"] for scene in board["scenes"])
    assert hero in narration and other in narration
    assert (place in narration) if place else ("in the" not in narration)
    assert [e["name"] for e in board["environments"]] == ([f"the {place}"] if place else [])
    for scene in board["scenes"]:
        # Whole sentences: a capital letter first, a full stop last, the hero in bold in the picture.
        assert scene["narrator"][0].isupper() and scene["narrator"].endswith(".")
        assert f"**the {hero}**" in scene["image_description"]


def test_different_ideas_share_no_characters_or_places():
    first = write_storyboard("A fox opens a bakery in the village", 3, 1)
    second = write_storyboard("An old sailor who finds a map in the harbor", 3, 1)

    def names(board):
        return {item["name"] for key in ("characters", "environments") for item in board[key]}

    assert names(first) == {"the fox", "the bakery", "the village"}
    assert names(second) == {"the old sailor", "the map", "the harbor"}


#: (idea, every character it names, its setting or None): places and times are settings.
CASTS = [
    ("A lighthouse keeper befriends a seal during a winter storm", ("keeper", "seal"), "storm"),
    ("A girl and her dog explore a cave", ("girl", "dog"), None),
    ("Two robots learn to dance at a wedding", ("robots",), "wedding"),
    ("A fox opens a bakery in the village", ("fox", "bakery"), "village"),
    ("An old sailor who finds a map in the harbor", ("sailor", "map"), "harbor"),
    ("A knight and a dragon share a picnic on the mountain", ("knight", "dragon"), "mountain"),
    ("A penguin meets a polar bear at night", ("penguin", "bear"), None),
    ("The baker bakes a giant cake for the queen", ("baker", "cake", "queen"), None),
    ("A lonely astronaut finds a flower on the moon", ("astronaut", "flower"), "moon"),
    ("A cat chases a mouse through the library", ("cat", "mouse"), "library"),
    ("Three kittens and a puppy play in the garden", ("kittens", "puppy"), "garden"),
    ("A young wizard loses his wand before the exam", ("wizard", "wand"), "exam"),
    ("A grandmother teaches her grandson to fish by the lake", ("grandmother", "grandson"), "lake"),
    ("A tiny turtle races a rabbit across the meadow", ("turtle", "rabbit"), "meadow"),
    ("A musician and a painter open a cafe in Paris", ("musician", "painter", "cafe"), None),
    ("A firefighter rescues a kitten during the parade", ("firefighter", "kitten"), "parade"),
    ("A shy owl makes a friend in the forest", ("owl", "friend"), "forest"),
    ("Two sisters build a treehouse after school", ("sisters", "treehouse"), None),
    ("A pirate and his parrot search for treasure on an island", ("pirate", "parrot"), "island"),
    ("A robot gardener grows a sunflower inside the space station", ("gardener", "sunflower"), "station"),
    ("A detective follows a mysterious stranger through the fog", ("detective", "stranger"), "fog"),
    ("A little boat sails with a whale across the ocean", ("boat", "whale"), "ocean"),
]


@pytest.mark.parametrize(("idea", "characters", "setting"), CASTS, ids=[c[0] for c in CASTS])
@pytest.mark.parametrize("scene_count", [1, 3])
def test_every_character_the_idea_names_is_in_the_storyboard_and_on_screen(idea, characters, setting, scene_count):
    board = write_storyboard(idea, scene_count, 1)
    names = " ".join(c["name"] for c in board["characters"])
    # On screen: each scene's card shows its title (name) and its narration as the caption.
    on_screen = " ".join(f"{scene['name']} {scene['narrator']}" for scene in board["scenes"]).lower()
    for character in characters:
        assert character in names, (character, board["characters"])
        assert character in on_screen, (character, on_screen)
    if setting:
        assert setting not in names  # a place or a time is a setting, not a character
        assert setting in " ".join(e["name"] for e in board["environments"])
    for scene in board["scenes"]:
        assert 3 <= len(scene["narrator"].split()) <= 16, scene["narrator"]
