"""GraphiQL in a real headless Chromium, offline: the page loads from this server alone, a
token goes into the headers, a query and a subscription run.

    .venv/bin/python tests/browser/check_graphiql.py                      # own server
    .venv/bin/python tests/browser/check_graphiql.py --url http://127.0.0.1:8000 --token T

Without --url it starts `insight-crm serve` on a temporary data dir (embedded PostgreSQL and
Redis) and signs a token with that dir's development key. It drives /usr/bin/chromium (Debian's
package: `apt-get install chromium`) over the DevTools protocol and fails on:

- any request of the page to a host other than the server's (each is blocked in the Fetch
  domain and reported), a failed load, a response >= 400, a script error, a console error
  (a Content-Security-Policy violation is one);
- the result pane not showing data after the execute button is clicked: the default query
  (`me`, which needs the token from the headers), then, on its own server only (it writes), a
  subscription over the WebSocket that shows a replayed event and then a live one;
- a link with `?headers=` planting another token in the persisted headers (login CSRF).

It saves a screenshot of each step and prints what it saw; exit status 0 when all held. Not
collected by pytest (the suite checks the page's references without a browser:
tests/test_graphiql.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from chromium_devtools import (
    LOCAL_SCHEMES,
    CheckFailed,
    DevTools,
    Traffic,
    attached,
    center_of,
    chromium,
    click,
    get_json,
    watch,
)

CLI = Path(sys.executable).parent / "insight-crm"
SUBSCRIPTION = (
    'subscription { crmEvents(types: ["crm.company.created"], after: "0") { type entityId } }'
)
TOKEN_FOR = ("--tenant", "browser-check", "--user", "check@example.de")
CREATE = "mutation($name: String!) { createCompany(input: {name: $name}) { id name } }"
RESULT_TEXT = """(() => {
  const editor = document.querySelector('.result-window .CodeMirror');
  return editor && editor.CodeMirror ? editor.CodeMirror.getValue() : null;
})()"""
EXECUTE = ".graphiql-execute-button"
EXPLORER = 'button[aria-label="Show GraphiQL Explorer"]'


# ---- the check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    url: str  # the server's base URL
    token: str
    own: bool  # our own throwaway server: the check may write to it


async def check(target: Target, browser: str, shots: Path) -> None:
    print(f"browser: {get_json(f'{browser}/json/version')['Browser']} (headless, fresh profile)")
    async with attached(browser) as devtools:
        traffic = Traffic(urllib.parse.urlsplit(target.url).hostname or "127.0.0.1")
        watch(devtools, traffic)
        for domain in ("Network", "Runtime", "Log", "Page"):
            await devtools.call(f"{domain}.enable")
        await devtools.call("Fetch.enable", patterns=[{"urlPattern": "*"}])
        await _put_token_in_headers(devtools, target)
        try:
            await _run_default_query(devtools, target, traffic, shots)
            await _refuse_headers_from_the_url(devtools, target, traffic)
            if target.own:
                await _run_subscription(devtools, target, traffic, shots)
            else:
                print("subscription: skipped (it writes a company; only on its own server)")
        except CheckFailed:
            _screenshot(
                await devtools.call("Page.captureScreenshot"), shots / "graphiql-failed.png"
            )
            raise
        _report(traffic)


async def _put_token_in_headers(devtools: DevTools, target: Target) -> None:
    """GraphiQL keeps the headers editor's text in localStorage: put the token there before
    the page's scripts run, as a user who pasted it before would have."""
    parts = urllib.parse.urlsplit(target.url)
    origin = json.dumps(f"{parts.scheme}://{parts.netloc}")
    headers = json.dumps(json.dumps({"Authorization": f"Bearer {target.token}"}, indent=2))
    source = (
        f"if (location.origin === {origin} && !localStorage.getItem('graphiql:headers'))"
        f" localStorage.setItem('graphiql:headers', {headers});"
    )
    await devtools.call("Page.addScriptToEvaluateOnNewDocument", source=source)


async def _open(devtools: DevTools, url: str, traffic: Traffic) -> None:
    await devtools.call("Page.navigate", url=url)
    await devtools.wait_for(center_of(EXECUTE), "GraphiQL's execute button", traffic.problems)


async def _result(devtools: DevTools, traffic: Traffic, contains: str) -> dict[str, Any]:
    text = await devtools.wait_for(
        f"(() => {{ const t = {RESULT_TEXT}; return t && t.includes({json.dumps(contains)})"
        " ? t : null; })()",
        f"a result containing {contains!r}",
        traffic.problems,
    )
    result: dict[str, Any] = json.loads(text)
    if result.get("errors") or not result.get("data"):
        raise CheckFailed(f"the result pane shows no data: {text}")
    return result


async def _run_default_query(
    devtools: DevTools, target: Target, traffic: Traffic, shots: Path
) -> None:
    await _open(devtools, f"{target.url}/graphql", traffic)
    editor = await devtools.evaluate(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
    )
    if "Welcome to GraphiQL" not in editor:
        raise CheckFailed(f"the default query is not in the editor: {editor[:200]!r}")
    # The explorer plugin lists the root fields once the schema came by introspection, which
    # needs the token from the headers.
    await click(devtools, EXPLORER, traffic)
    await devtools.wait_for(
        "document.querySelector('.graphiql-explorer-root')?.textContent.includes('companies')",
        "the explorer listing the schema's fields",
        traffic.problems,
    )
    await click(devtools, EXECUTE, traffic)
    result = await _result(devtools, traffic, '"me"')
    print(f"query: default query run with the execute button; result pane: {json.dumps(result)}")
    _screenshot(await devtools.call("Page.captureScreenshot"), shots / "graphiql-query.png")


async def _refuse_headers_from_the_url(
    devtools: DevTools, target: Target, traffic: Traffic
) -> None:
    """A crafted link must not put its headers (someone else's token) into the page."""
    planted = urllib.parse.quote(json.dumps({"Authorization": "Bearer planted-by-a-link"}))
    await _open(devtools, f"{target.url}/graphql?headers={planted}", traffic)
    await click(devtools, EXECUTE, traffic)
    await _result(devtools, traffic, '"me"')  # still as the user whose token is stored
    # GraphiQL keeps each tab's headers in its tab state: all of its storage is looked at.
    stored = await devtools.evaluate("JSON.stringify(Object.entries(localStorage))")
    if "planted" in stored or target.token not in stored:
        raise CheckFailed(f"a link's ?headers= reached the persisted headers: {stored[:300]}")
    print("headers: a link's ?headers= was ignored; the stored token still signs the query")


async def _run_subscription(
    devtools: DevTools, target: Target, traffic: Traffic, shots: Path
) -> None:
    seeded = await asyncio.to_thread(_create_company, target, "Browser-Check GmbH")
    query = urllib.parse.quote(SUBSCRIPTION)
    await _open(devtools, f"{target.url}/graphql?q={query}", traffic)
    await click(devtools, EXECUTE, traffic)
    replayed = await _result(devtools, traffic, seeded)
    # Only after the replay: the subscription is live by now.
    live = await asyncio.to_thread(_create_company, target, "Live-Check GmbH")
    shown = await _result(devtools, traffic, live)
    print(f"subscription: replayed {json.dumps(replayed)}, then live {json.dumps(shown)}")
    _screenshot(await devtools.call("Page.captureScreenshot"), shots / "graphiql-subscription.png")


def _create_company(target: Target, name: str) -> str:
    response = httpx.post(
        f"{target.url}/graphql",
        json={"query": CREATE, "variables": {"name": name}},
        headers={"authorization": f"Bearer {target.token}"},
        timeout=10,
    )
    company: dict[str, str] = response.json()["data"]["createCompany"]
    return company["id"]


def _screenshot(shot: dict[str, Any], path: Path) -> None:
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")


def _report(traffic: Traffic) -> None:
    if traffic.problems:
        raise CheckFailed("; ".join(traffic.problems))
    inline = [url for url in traffic.urls if url.startswith(LOCAL_SCHEMES)]
    fetched = sorted({url for url in traffic.urls if not url.startswith(LOCAL_SCHEMES)})
    hosts = sorted({urllib.parse.urlsplit(url).netloc for url in fetched})
    print(
        f"requests: {len(traffic.urls)} ({len(inline)} of them inline data: URLs),"
        f" all to {', '.join(hosts)}; nothing left the server"
    )
    for url in fetched:
        print(f"  {url[:110]}")
    for url in traffic.sockets:
        print(f"  websocket {url}")


# ---- our own server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli_env() -> dict[str, str]:
    """The embedded default: no external servers, no configured key (GraphiQL is on)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "REDIS_URL", "JWT_", "GRAPHIQL"))
    }


@contextlib.contextmanager
def own_server() -> Iterator[Target]:
    root = Path(tempfile.mkdtemp(prefix="graphiql-check-"))
    data_dir = root / "crm-data"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        [str(CLI), "serve", "--data-dir", str(data_dir), "--port", str(port), "--no-worker"],
        cwd=root,
        env=_cli_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_live(url, server, root / "serve.log")
        token = subprocess.run(
            [str(CLI), "token", "--data-dir", str(data_dir), *TOKEN_FOR],
            cwd=root,
            env=_cli_env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"server: {url} (insight-crm serve on {data_dir})")
        yield Target(url, token, own=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_live(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"serve exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise CheckFailed("serve did not come up within 120 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--token", help="a token for --url")
    parser.add_argument(
        "--screenshots", type=Path, default=Path(tempfile.gettempdir()), help="directory"
    )
    args = parser.parse_args()
    if bool(args.url) != bool(args.token):
        parser.error("--url and --token go together")
    args.screenshots.mkdir(parents=True, exist_ok=True)
    try:
        with contextlib.ExitStack() as stack:
            if args.url:
                target = Target(args.url.rstrip("/"), args.token, own=False)
            else:
                target = stack.enter_context(own_server())
            browser = stack.enter_context(chromium())
            asyncio.run(check(target, browser, args.screenshots))
    except CheckFailed as failure:
        print(f"FAILED: {failure}")
        return 1
    print("OK: GraphiQL works with no request leaving the server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
