"""SQLite persistence for sandbox stories, their pending work, the credit balance and the ledger of charges."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# Fields a user changes with PUT /story/{id}; the pipeline never overwrites them.
USER_FIELDS = ("title", "description", "visibility_status", "webhook_url")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (id TEXT PRIMARY KEY, data TEXT NOT NULL, job TEXT);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (day TEXT NOT NULL, story_id TEXT NOT NULL, credits INTEGER NOT NULL);
"""


class Store:
    """
    Stories (as the JSON the API returns), the job each is running, and counters.

    :param path: the SQLite file.
    :param credits: the starting balance, used only when the database is new.
    """

    def __init__(self, path: Path, credits: int) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('credits', ?)", (credits,))
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('stories_created', 0)")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def counter(self, key: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def set_credits(self, value: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'credits'", (value,))

    def charge(self, cost: int, story: dict[str, Any], job: dict[str, Any] | None, *, new: bool) -> str:
        """
        Check the story may take a new job, take ``cost`` credits and save it with its job: one transaction.

        :return: ``"ok"``; ``"busy"`` when an existing story is still processing; ``"credit"`` when
            the balance cannot pay. Nothing changes unless ``"ok"``.
        """
        with self._tx() as db:
            if not new:
                row = db.execute("SELECT data FROM stories WHERE id = ?", (story["id"],)).fetchone()
                if row is None or json.loads(row[0])["status"] in ("new", "processing"):
                    return "busy"
            balance = db.execute("SELECT value FROM meta WHERE key = 'credits'").fetchone()[0]
            if balance < cost:
                return "credit"
            db.execute("UPDATE meta SET value = value - ? WHERE key = 'credits'", (cost,))
            day = datetime.now(timezone.utc).date().isoformat()
            db.execute("INSERT INTO ledger VALUES (?, ?, ?)", (day, story["id"], cost))
            if new:
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'stories_created'")
            story["used_credits"] = int(story.get("used_credits") or 0) + cost
            db.execute(
                "INSERT OR REPLACE INTO stories VALUES (?, ?, ?)",
                (story["id"], json.dumps(story), json.dumps(job) if job else None),
            )
            return "ok"

    def daily_usage(self, start: str, end: str, *, include_today: bool) -> list[dict[str, Any]]:
        """Credits charged and stories charged per day from ``start`` to ``end`` (ISO dates, inclusive)."""
        today = datetime.now(timezone.utc).date().isoformat()
        with self._lock:
            rows = self._db.execute(
                "SELECT day, SUM(credits), COUNT(DISTINCT story_id) FROM ledger WHERE day BETWEEN ? AND ? "
                "GROUP BY day ORDER BY day",
                (start, end),
            ).fetchall()
        return [
            {"date": day, "used_credits": int(credits), "stories": int(stories)}
            for day, credits, stories in rows
            if include_today or day != today
        ]

    def get(self, story_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM stories WHERE id = ?", (story_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def job(self, story_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT job FROM stories WHERE id = ?", (story_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def save(self, story: dict[str, Any], *, finish_job: bool = False) -> bool:
        """
        Write a story from the pipeline, keeping fields the user may have changed meanwhile (PUT).

        :param finish_job: also clear its pending job.
        :return: False when the story was deleted meanwhile (nothing is written).
        """
        with self._tx() as db:
            row = db.execute("SELECT data FROM stories WHERE id = ?", (story["id"],)).fetchone()
            if row is None:
                return False
            current = json.loads(row[0])
            story.update({key: current[key] for key in USER_FIELDS if key in current})
            job_sql = ", job = NULL" if finish_job else ""
            db.execute(f"UPDATE stories SET data = ?{job_sql} WHERE id = ?", (json.dumps(story), story["id"]))
            return True

    def update(self, story_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        """Apply a user's changes (PUT) atomically; return the story, or None if there is none."""
        with self._tx() as db:
            row = db.execute("SELECT data FROM stories WHERE id = ?", (story_id,)).fetchone()
            if row is None:
                return None
            story = json.loads(row[0]) | changes
            db.execute("UPDATE stories SET data = ? WHERE id = ?", (json.dumps(story), story_id))
            return story

    def delete(self, story_id: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM stories WHERE id = ?", (story_id,)).rowcount > 0

    def pending(self) -> list[str]:
        """Ids of stories whose job had not finished (e.g. when the sandbox stopped)."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT id FROM stories WHERE job IS NOT NULL")]
