"""Command line: ``vimmerse-sandbox`` or ``python -m vimmerse_sandbox``."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from vimmerse_sandbox.pipeline import API_VERSIONS, SandboxConfig

DEFAULT_KEY = "sandbox-key"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vimmerse-sandbox",
        description="A local, Vimmerse-compatible Story API server that renders real story videos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)")
    parser.add_argument("--data-dir", type=Path, help="where stories and files live (default: a new temp dir)")
    parser.add_argument("--api-key", default=DEFAULT_KEY, help="the API key requests must carry (default sandbox-key)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="time scale: 1 feels like the service, 100 is test speed"
    )
    parser.add_argument("--credits", type=int, default=10_000, help="starting credit balance of a new data dir")
    parser.add_argument("--workers", type=int, default=2, help="render threads (default 2)")
    parser.add_argument("--static-dir", type=Path, help="a folder served as-is under /static/ (e.g. your own images)")
    parser.add_argument("--public-url", default="", help="base URL for served files (default: the server's own)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='a fault active from the start, e.g. \'{"kind": "status", "status": 503, "endpoint": "GET /story/*"}\'',
    )
    parser.add_argument(
        "--api-versions",
        default=",".join(API_VERSIONS),
        metavar="LIST",
        help="the Story API versions to serve, comma-separated: v2 (/v2/story/...), legacy (/story/...); default both",
    )
    parser.add_argument(
        "--statistics-include-today",
        action="store_true",
        help="let /customer-statistics show today's usage (the service shows a day once it is over)",
    )
    parser.add_argument("--quiet", action="store_true", help="no log line per request (warnings and errors only)")
    parser.add_argument("--url-file", type=Path, help="write the server's URL to this file once it listens")
    parser.add_argument(
        "--allow-private-fetch",
        action="store_true",
        help="let caller URLs (images, music, pages, webhooks) reach private and link-local addresses",
    )
    parser.add_argument(
        "--webhook-retries",
        type=int,
        default=3,
        metavar="N",
        help="tries a failed webhook delivery N more times, backing off (default 3; 0: each webhook once)",
    )
    parser.add_argument(
        "--allow-default-key",
        action="store_true",
        help="serve on a non-loopback interface although --api-key is the well-known default",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run the sandbox in the foreground until interrupted."""
    args = _parser().parse_args(argv)
    if args.speed <= 0:
        raise SystemExit("--speed must be > 0")
    args.api_versions = tuple(dict.fromkeys(v.strip().lower() for v in args.api_versions.split(",") if v.strip()))
    if not args.api_versions or set(args.api_versions) - set(API_VERSIONS):
        raise SystemExit(f"--api-versions takes a comma-separated list of {', '.join(API_VERSIONS)}")
    if args.host not in LOOPBACK_HOSTS and args.api_key == DEFAULT_KEY and not args.allow_default_key:
        raise SystemExit(
            f"Refusing to serve on {args.host} with the default API key: anyone who can reach it could use it. "
            "Pass --api-key with a key of your own (or --allow-default-key)."
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.quiet:
        logging.getLogger("vimmerse_sandbox.requests").setLevel(logging.WARNING)
    # uvicorn re-raises SIGTERM once it has shut down; exiting through Python lets the cleanup run.
    signal.signal(signal.SIGTERM, _exit)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vimmerse-sandbox-"))
    try:
        _serve(args, data_dir)
    finally:
        if args.data_dir is None:  # our own temporary dir: nothing of it outlives the process
            shutil.rmtree(data_dir, ignore_errors=True)


def _exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve(args: argparse.Namespace, data_dir: Path) -> None:
    from vimmerse_sandbox.server import SandboxServer

    config = SandboxConfig(
        data_dir=data_dir,
        api_key=args.api_key,
        speed=args.speed,
        credits=args.credits,
        public_url=args.public_url.rstrip("/"),
        workers=args.workers,
        static_dir=args.static_dir,
        allow_private_fetch=args.allow_private_fetch,
        api_versions=args.api_versions,
        statistics_include_today=args.statistics_include_today,
        webhook_retries=args.webhook_retries,
    )
    server = SandboxServer(config, host=args.host, port=args.port, faults=[json.loads(f) for f in args.fault])
    if args.url_file:
        args.url_file.write_text(server.url)
    versions = " and ".join(args.api_versions)
    print(
        f"Vimmerse sandbox listening on {server.url} (data dir {data_dir}, speed {args.speed:g}; Story API {versions})",
        flush=True,
    )
    print(
        f"Story pages: {server.url}/stories/{{story_id}} (set it as the connection's story_url_template extra)",
        flush=True,
    )
    extra = json.dumps({"story_url_template": f"{server.url}/stories/{{story_id}}"})
    print(
        "A connection to it: airflow connections add vimmerse_default --conn-type vimmerse "
        f"--conn-host {server.url} --conn-port {urlsplit(server.url).port} --conn-password sandbox-key "
        f"--conn-extra '{extra}'",
        flush=True,
    )
    server.serve_forever()


if __name__ == "__main__":
    main()
