"""The sandbox page's curl recipes work as written (sent as curl sends them: -d is a form Content-Type)."""

from __future__ import annotations

import shlex
from pathlib import Path

import requests

from tests.conftest import API_KEY

SANDBOX_PAGE = Path(__file__).resolve().parents[3] / "docs" / "sandbox.md"


def _curl(command: str, base_url: str) -> requests.Response:
    words = shlex.split(command.replace("sandbox-key", API_KEY))
    method, headers, data, url = "GET", {"Content-Type": "application/x-www-form-urlencoded"}, None, None
    options = iter(words[1:])
    for word in options:
        if word == "-X":
            method = next(options)
        elif word == "-H":
            name, value = next(options).split(":", 1)
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(options)
            method = "POST" if method == "GET" else method
        else:
            url = word
    return requests.request(
        method, url.replace("http://localhost:8765", base_url), headers=headers, data=data, timeout=10
    )


def test_the_fault_recipes_work_as_written(sandbox):
    recipes = [line for line in SANDBOX_PAGE.read_text().splitlines() if line.startswith("curl ")]
    assert recipes
    for recipe in recipes:
        answer = _curl(recipe, sandbox.url)
        assert answer.status_code == 200, (recipe, answer.text)
    faults = requests.get(f"{sandbox.url}/_sandbox/faults", headers={"X-Api-Key": API_KEY}, timeout=10).json()
    assert len(faults) == len(recipes)
