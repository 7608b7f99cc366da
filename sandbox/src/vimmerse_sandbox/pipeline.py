"""
The sandbox's story state machine: ``new`` -> ``processing`` -> ``success`` | ``fail``.

Each POST saves a job with its story; a bounded pool of render threads runs it in the
background, stage by stage, raising ``progress_percentage`` as work completes. Jobs are
persisted, so a story that was processing when the sandbox stopped resumes on the next start.
"""

from __future__ import annotations

import logging
import threading
import uuid
import wave
from array import array
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests

from vimmerse_sandbox import media, net, speech
from vimmerse_sandbox.faults import FaultBook
from vimmerse_sandbox.store import Store
from vimmerse_sandbox.storyboard import storyboard_from_images, storyboard_from_page, write_storyboard

log = logging.getLogger(__name__)

# Seconds each unit of work takes at speed 1, so the default feels like the real service.
UNIT_SECONDS = {"storyboard": 4.0, "elements": 2.0, "scenes": 3.0, "videos": 6.0, "concat": 3.0}
STAGES = {
    "idea2video": ("storyboard", "elements", "scenes", "videos"),
    "url2video": ("storyboard", "elements", "scenes", "videos"),
    "images2video": ("storyboard", "elements", "scenes", "videos"),
    "storyboard": ("storyboard",),
    "elements": ("elements",),
    "scenes": ("scenes",),
    "videos": ("videos",),
    "concat": ("concat",),
}
ELEMENT_KEYS = ("characters", "environments", "objects")
MUSIC_SECONDS = 20.0


#: The service's published price of video generation, in credits per second of a scene, by video
#: tool (its reference, read 2026-11-30). Its table lists Vidu as standard (10) but its worked
#: example charges 75 for 3 Vidu scenes of 5 s: the example is followed.
PUBLISHED_RATES = {
    "Auto": 10, "KlingAI": 10, "Seedance": 10, "Pixverse": 10, "VeoFast": 10,
    "Vidu": 5, "AutoT1": 5, "PVideo": 5, "VeoLite": 5,
}  # fmt: skip
AUTO_MODES = ("idea2video", "url2video", "images2video")


def cost(kind: str, scene_count: int, params: dict[str, Any] | None = None) -> int:
    """
    Credits a job costs. Video generation at the published rate: rate x scenes x seconds per
    scene, doubled with native audio (the automatic modes, and the videos step with a priced
    motion type). Anything else: one per storyboard or concat, two for elements, one per scene.
    """
    params = params or {}
    tool = params.get("video_tool") if kind in AUTO_MODES else params.get("motion_type")
    if (kind in AUTO_MODES or kind == "videos") and tool in PUBLISHED_RATES:
        native = 2 if params.get("native_audio") else 1
        return PUBLISHED_RATES[tool] * scene_count * int(params.get("duration") or 5) * native
    per_stage = {"storyboard": 1, "elements": 2, "scenes": scene_count, "videos": 2 * scene_count, "concat": 1}
    return sum(per_stage[stage] for stage in STAGES[kind])


API_VERSIONS = ("v2", "legacy")


@dataclass
class SandboxConfig:
    """
    How a sandbox runs.

    :param data_dir: where the database and rendered files live.
    :param api_key: the key requests must carry in ``X-Api-Key``.
    :param speed: time scale; 1 feels like the real service, 100 finishes a story in seconds.
    :param credits: starting balance of a new data dir.
    :param public_url: base URL of served files (defaults to the server's own address).
    :param workers: render threads.
    :param static_dir: a folder served as-is under ``/static/`` (e.g. your own images for a story).
    :param allow_private_fetch: let caller URLs (assets, pages, webhooks) reach private and link-local addresses.
    :param api_versions: the Story API versions served: ``v2`` (``/v2/story/...``) and/or ``legacy`` (``/story/...``).
    :param statistics_include_today: ``/customer-statistics`` shows today too (the service waits for the day to end).
    :param webhook_retries: how many times a failed webhook delivery is tried again (the service's policy is
        not documented); 0 delivers each webhook once.
    """

    data_dir: Path
    api_key: str = "sandbox-key"
    speed: float = 1.0
    credits: int = 10_000
    public_url: str = ""
    workers: int = 2
    customer_id: str = "sandbox-customer"
    static_dir: Path | None = None
    allow_private_fetch: bool = False
    api_versions: tuple[str, ...] = API_VERSIONS
    statistics_include_today: bool = False
    webhook_retries: int = 3


class Stats:
    """Counters the admin endpoint reports: requests per endpoint, and named events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def request(self, endpoint: str) -> None:
        with self._lock:
            self.requests[endpoint] += 1

    def event(self, name: str) -> None:
        with self._lock:
            self.events[name] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self.requests), **{k: self.events[k] for k in self.events}}


class _Stopped(Exception):
    """The sandbox is shutting down; the job stays pending and resumes on the next start."""


class _StoryFailure(Exception):
    """The story cannot finish; the message becomes the story's ``message``."""


class Pipeline:
    """Runs story jobs on a bounded pool of render threads."""

    def __init__(self, config: SandboxConfig, store: Store, faults: FaultBook, stats: Stats) -> None:
        self.config = config
        self.store = store
        self.faults = faults
        self.stats = stats
        self.files = config.data_dir / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max(1, config.workers), thread_name_prefix="vimmerse-render")
        self._http = requests.Session()

    def submit(self, story_id: str) -> None:
        self._pool.submit(self._run, story_id)

    def resume(self) -> None:
        """Queue every story whose job did not finish before the last stop."""
        for story_id in self.store.pending():
            log.info("Resuming story %s", story_id)
            self.submit(story_id)

    def shutdown(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def pause(self, stage: str) -> None:
        if self._stop.wait(UNIT_SECONDS[stage] / self.config.speed):
            raise _Stopped

    def file_url(self, story_id: str, name: str) -> str:
        return f"{self.config.public_url}/files/{story_id}/{name}"

    def save_uploads(self, story_id: str, uploads: list[tuple[str, bytes]]) -> list[str]:
        """Keep uploaded images as the story's own files; return their URLs."""
        folder = self.files / story_id
        folder.mkdir(parents=True, exist_ok=True)
        urls = []
        for index, (filename, data) in enumerate(uploads, 1):
            name = f"upload_{index}{Path(filename).suffix.lower() or '.img'}"
            (folder / name).write_bytes(data)
            urls.append(self.file_url(story_id, name))
        return urls

    @staticmethod
    def visible(story: dict[str, Any]) -> dict[str, Any]:
        """The story as the API shows it (the late_video fault hides a finished video for a while)."""
        ready_at = story.get("_video_ready_at")
        shown = {key: value for key, value in story.items() if not key.startswith("_")}
        if ready_at and datetime.now(timezone.utc).timestamp() < ready_at:
            shown["video_url"] = ""
        return shown

    def fetch(self, url: str) -> bytes:
        """Bytes behind a URL: our own files are read from disk, others fetched over http(s)."""
        own = f"{self.config.public_url}/files/"
        if url.startswith(own):
            path = (self.files / url[len(own) :]).resolve()
            if self.files.resolve() in path.parents and path.is_file():
                return path.read_bytes()
        try:
            return net.fetch(self._http, url, allow_private=self.config.allow_private_fetch)
        except net.FetchRefused as err:
            raise _StoryFailure(f"Refused to fetch {url[:100]}: {err}") from None
        except requests.RequestException as err:
            raise _StoryFailure(f"Could not fetch {url[:100]}: {type(err).__name__}") from None

    def _run(self, story_id: str) -> None:
        story, job = self.store.get(story_id), self.store.job(story_id)
        if story is None or job is None:
            return
        story.update(status="processing", message="")
        self.store.save(story)
        try:
            _Job(self, story, job).run()
        except _Stopped:
            return
        except (_StoryFailure, media.MediaRefused) as err:
            story.update(status="fail", message=str(err))
        except Exception as err:  # a render bug must end the story, never leave it processing
            log.exception("Story %s failed while rendering", story_id)
            story.update(status="fail", message=f"Internal error: {type(err).__name__}: {err}")
        else:
            story.update(status="success", progress_percentage=100)
            late = self.faults.take(("late_video",), f"JOB {job['kind']}", "JOB")
            if late:
                story["_video_ready_at"] = datetime.now(timezone.utc).timestamp() + late.delay
        story["updated_at"] = now()
        if self.store.save(story, finish_job=True) and story.get("webhook_url"):
            threading.Thread(target=self._notify, args=(story,), daemon=True).start()

    def _notify(self, story: dict[str, Any]) -> None:
        """POST the webhook, with a 10 s timeout and ``webhook_retries`` retries after the first attempt."""
        payload = {"customer_id": self.config.customer_id, "batch_id": story["id"], "status": story["status"]}
        ready_at = story.get("_video_ready_at")
        if ready_at:
            self._stop.wait(max(0.0, ready_at - datetime.now(timezone.utc).timestamp()))
        for attempt in range(1 + self.config.webhook_retries):
            try:
                if self.faults.take(("webhook_error",), "WEBHOOK"):
                    raise requests.ConnectionError("injected webhook failure")
                net.check_url(story["webhook_url"], allow_private=self.config.allow_private_fetch)
                requests.post(story["webhook_url"], json=payload, timeout=10, allow_redirects=False).raise_for_status()
            except net.FetchRefused as err:
                log.warning("Webhook for story %s refused: %s", story["id"], err)
                self.stats.event("webhooks_refused")
                return
            except requests.RequestException:
                self.stats.event("webhooks_failed")
                if attempt == self.config.webhook_retries or self._stop.wait(max(0.05, 2**attempt / self.config.speed)):
                    return
                continue
            self.stats.event("webhooks_delivered")
            return


def now() -> str:
    """A timestamp the way the service writes it: ``2025-09-02 17:20:48.587526+00:00``."""
    return str(datetime.now(timezone.utc))


def _write_wav(path: Path, samples: array, rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


class _Job:
    """One job's run over a story: its stages in order, with progress."""

    def __init__(self, pipeline: Pipeline, story: dict[str, Any], job: dict[str, Any]) -> None:
        self.p = pipeline
        self.story = story
        self.kind = job["kind"]
        self.params = job.get("params", {})
        self.size = media.frame_size(self.params.get("aspect_ratio", "16:9"))
        self.dir = pipeline.files / story["id"]
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stages = STAGES[self.kind]
        self.stage_index = 0

    def run(self) -> None:
        failure = self.p.faults.take(("story_fail",), f"JOB {self.kind}", "JOB")
        for index, stage in enumerate(self.stages):
            self.stage_index = index
            getattr(self, stage)()
            if failure:
                raise _StoryFailure(failure.message)

    def tick(self, done: int, total: int) -> None:
        fraction = (self.stage_index + done / max(1, total)) / len(self.stages)
        self.story["progress_percentage"] = min(99, int(fraction * 100))
        self.story["updated_at"] = now()
        if not self.p.store.save(self.story):
            raise _Stopped  # the story was deleted while rendering

    @property
    def board(self) -> dict[str, Any]:
        return self.story.setdefault("storyboard", {})

    def storyboard(self) -> None:
        self.p.pause("storyboard")
        count = int(self.params.get("scene_count") or 3)
        idea = self.story.get("idea", "")
        if self.params.get("page_url"):
            page = self.p.fetch(self.params["page_url"]).decode("utf-8", "replace")
            board = storyboard_from_page(page, self.params["page_url"], count, self.params.get("instructions", ""))
        elif self.params.get("image_urls"):
            board = storyboard_from_images(idea, self.params["image_urls"])
        else:
            board = write_storyboard(idea, count, self.params.get("seed"))
        for key, given in (self.params.get("elements") or {}).items():
            if key in ELEMENT_KEYS and isinstance(given, list):
                board[key] = [item for item in given if isinstance(item, dict)] + board.get(key, [])
        self.story["storyboard"] = board
        self.tick(1, 1)

    def elements(self) -> None:
        items = [item for key in ELEMENT_KEYS for item in self.board.get(key, [])]
        for done, item in enumerate(items, 1):
            if not item.get("image_url"):
                self.p.pause("elements")
                side = min(self.size)
                card = media.render_card(
                    item.get("name", ""), item.get("name", ""), item.get("description", ""), (side, side)
                )
                name = f"element_{done}.png"
                card.save(self.dir / name)
                item["image_url"] = self.p.file_url(self.story["id"], name)
            self.tick(done, len(items) + 1)
        music = self.board.setdefault("music", {"description": "background music"})
        if self.params.get("has_bg_music", True) and not music.get("music_url"):
            _write_wav(self.dir / "music.wav", media.tone(MUSIC_SECONDS, self.story["id"]), media.SAMPLE_RATE)
            music["music_url"] = self.p.file_url(self.story["id"], "music.wav")
        self.tick(1, 1)

    def _thumbnails(self, description: str) -> list[Any]:
        thumbs = []
        for key in ELEMENT_KEYS:
            for item in self.board.get(key, []):
                if item.get("image_url") and f"**{item.get('name')}**" in description:
                    thumbs.append(media.open_image(self.p.fetch(item["image_url"])))
        return thumbs

    def scenes(self) -> None:
        scenes = self.board.get("scenes", [])
        narrator = self.params.get("narrator", "Rachel")
        narrated = self.params.get("has_narration", True)
        language = self.params.get("language", "English")
        for index, scene in enumerate(scenes):
            self.p.pause("scenes")
            if not scene.get("image_url"):
                description = scene.get("image_description", "")
                card = media.render_card(
                    f"{self.story['id']}:{index}:{scene.get('name')}",
                    scene.get("name", f"Scene {index + 1}"),
                    scene.get("narrator", ""),
                    self.size,
                    self._thumbnails(description),
                )
                card.save(self.dir / f"scene_{index + 1}.png")
                scene["image_url"] = self.p.file_url(self.story["id"], f"scene_{index + 1}.png")
            if narrated and scene.get("narrator") and not scene.get("narration_url"):
                samples, rate = speech.speak(scene["narrator"], narrator, language)
                _write_wav(self.dir / f"narration_{index + 1}.wav", samples, rate)
                scene["narration_url"] = self.p.file_url(self.story["id"], f"narration_{index + 1}.wav")
            self.tick(index + 1, len(scenes))
        self.story["scenes"] = [
            {
                "image_url": s["image_url"],
                "prompt": s.get("video_description", ""),
                "narration_url": s.get("narration_url", ""),
            }
            for s in scenes
        ]
        self.story["has_narration"] = any(s.get("narration_url") for s in scenes)

    def videos(self) -> None:
        inputs = self.params.get("scenes") or self.story.get("scenes")
        if not inputs:
            self.scenes()
            inputs = self.story["scenes"]
        failing = set()
        fault = self.p.faults.take(("scene_fail",), f"JOB {self.kind}", "JOB")
        if fault:
            failing = set(fault.scenes)
        duration = int(self.params.get("duration", 5))
        loop = int(self.params.get("loop", 1))
        medias, failed, clips = [], [], []
        for index, scene in enumerate(inputs):
            self.p.pause("videos")
            entry = {
                "media_id": str(uuid.uuid4()),
                "item": uuid.uuid4().hex[:8],
                "source": {k: scene.get(k, "") for k in ("image_url", "prompt", "narration_url")},
            }
            if index + 1 in failing:
                failed.append({**entry, "message": f"Scene {index + 1} could not be animated."})
                self.tick(index + 1, len(inputs) + 1)
                continue
            image = media.fit_image(self.p.fetch(scene["image_url"]), self.size)
            narration = (
                media.decode_audio(self.p.fetch(scene["narration_url"])) if scene.get("narration_url") else array("h")
            )
            seconds = duration * loop
            if len(narration):
                seconds = max(duration, len(narration) / media.SAMPLE_RATE + 0.4)
            name = f"clip_{index + 1}.mp4"
            media.render_clip(image, media.camera_motion(scene.get("prompt", "")), seconds, narration, self.dir / name)
            clips.append(self.dir / name)
            medias.append(
                {**entry, "video_url": self.p.file_url(self.story["id"], name), "duration": round(seconds, 3)}
            )
            self.tick(index + 1, len(inputs) + 1)
        self.story.update(medias=medias, failed_medias=failed)
        if not clips:
            raise _StoryFailure("Every scene failed to animate.")
        self._compose(clips, self._music())

    def _music(self) -> array | None:
        audio_urls = self.params.get("audio_urls") or []
        if audio_urls:
            music = array("h")
            for url in audio_urls:
                music.extend(media.decode_audio(self.p.fetch(url)))
            return music
        url = (self.board.get("music") or {}).get("music_url")
        return media.decode_audio(self.p.fetch(url)) if url else None

    def _compose(self, sources: list[Any], music: array | None) -> None:
        version = int(self.story.get("story_version") or 0) + 1
        name = f"story_v{version}.mp4"
        seconds = media.concat_videos(sources, self.dir / name, music)
        self.story.update(video_url=self.p.file_url(self.story["id"], name), story_version=version, duration=seconds)
        self.tick(1, 1)

    def concat(self) -> None:
        self.p.pause("concat")
        urls = self.params.get("concat_video_urls") or [m["video_url"] for m in self.story.get("medias", [])]
        if not urls:
            raise _StoryFailure("Nothing to compose: the story has no videos and no concat_video_urls were given.")
        self._compose([self.p.fetch(url) for url in urls], self._music())
