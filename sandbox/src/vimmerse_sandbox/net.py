"""
What the sandbox may fetch or call back: caller-supplied URLs (images, music, pages, webhooks)
are a way into the network the sandbox runs in, so they are checked before any connection.

Loopback stays allowed (local CI serves its assets there); link-local, private, multicast and
unspecified addresses are refused unless the sandbox was started with ``--allow-private-fetch``.
Bodies are capped, and redirects are followed by hand so every hop is checked.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests

MAX_FETCH_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5


class FetchRefused(Exception):
    """The URL may not be fetched (scheme, address range, size); the message says why."""


def check_url(url: str, *, allow_private: bool) -> None:
    """
    Refuse a URL that is not plain http(s) or whose host resolves into a forbidden range.

    :raises FetchRefused: naming the reason, never fetching anything.
    """
    if any(ord(c) < 33 or c == "\\" for c in url):
        raise FetchRefused("URLs with spaces, control characters or backslashes are refused")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused(f"only absolute http(s) URLs can be fetched, not {url[:60]!r}")
    if parts.username or parts.password:
        raise FetchRefused("URLs with credentials are refused")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as err:
        raise FetchRefused(f"{parts.hostname} does not resolve ({err.strerror or err})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address.is_loopback:
            continue
        if (
            address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_unspecified
            or address.is_reserved
        ):
            raise FetchRefused(
                f"{parts.hostname} resolves to {address}, a private or link-local address "
                "(start the sandbox with --allow-private-fetch to allow it)"
            )


def fetch(session: requests.Session, url: str, *, allow_private: bool, timeout: float = 30) -> bytes:
    """GET ``url`` with every hop checked and the body capped at :data:`MAX_FETCH_BYTES`."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allow_private=allow_private)
        with session.get(url, timeout=timeout, stream=True, allow_redirects=False) as response:
            if response.is_redirect and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            response.raise_for_status()
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_FETCH_BYTES:
                raise FetchRefused(f"{url[:80]} is larger than {MAX_FETCH_BYTES // 2**20} MiB")
            body = bytearray()
            for chunk in response.iter_content(256 * 1024):
                body.extend(chunk)
                if len(body) > MAX_FETCH_BYTES:
                    raise FetchRefused(f"{url[:80]} is larger than {MAX_FETCH_BYTES // 2**20} MiB")
            return bytes(body)
    raise FetchRefused(f"too many redirects from {url[:80]}")
