"""The benchmark's server: the app `insight-crm serve --no-worker` serves, run as `serve` runs it
(the same uvicorn options and log levels), with the raw baseline's routes (bench/raw.py) added.

The app knows nothing of the benchmark (app/ never imports bench/, pyproject.toml's import
contracts): the routes are added here, after ours, to the app that `create_app()` built.
bench/run.py starts it pinned to a core, configured through the environment as `serve` is:

    .venv/bin/python bench/server.py --port 8777
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from app.cli_support import configure_logging  # noqa: E402
from app.settings import Settings, load_settings  # noqa: E402
from app.web.asgi import create_app, websocket_message_limit  # noqa: E402
from bench.raw import ROUTES  # noqa: E402
from bench.raw_search import ROUTES as SEARCH_ROUTES  # noqa: E402


def create_bench_app(settings: Settings) -> Starlette:
    """Our app without the cron worker, and the raw routes behind our own."""
    app = create_app(settings, with_worker=False)
    app.router.routes.extend([*ROUTES, *SEARCH_ROUTES])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="insight-crm with the benchmark's raw routes")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8777)
    args = parser.parse_args()
    settings = load_settings()  # DATABASE_URL, REDIS_URL, JWT_PUBLIC_KEY, ... as for `serve`
    uvicorn_level = configure_logging(settings.log_level, verbose=False)
    uvicorn.run(
        create_bench_app(settings),
        host=args.host,
        port=args.port,
        log_level=uvicorn_level,
        access_log=False,
        ws_max_size=websocket_message_limit(settings),
    )


if __name__ == "__main__":
    main()
