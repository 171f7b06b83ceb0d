"""Headless Chromium driven over the DevTools protocol, for tests/browser/check_graphiql.py:
launch it on a fresh profile, attach to its page, watch every request the page makes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1400,900",
    "--remote-debugging-port=0",
)
WAIT = 30.0  # seconds for any one thing to appear
LOCAL_SCHEMES = ("data:", "blob:", "about:")


def center_of(selector: str) -> str:
    """JavaScript: the element's center on screen, or null while it is not there."""
    return f"""(() => {{
  const element = document.querySelector({json.dumps(selector)});
  if (!element) return null;
  const box = element.getBoundingClientRect();
  return {{x: box.x + box.width / 2, y: box.y + box.height / 2}};
}})()"""


class CheckFailed(Exception):
    pass


# ---- a minimal DevTools protocol client ---------------------------------------------------


@dataclass
class DevTools:
    ws: ClientConnection
    handlers: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _commands: set[asyncio.Task[Any]] = field(default_factory=set)
    _next_id: int = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        answer = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = answer
        await self.ws.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        return await asyncio.wait_for(answer, WAIT)

    def send_soon(self, method: str, **params: Any) -> None:
        """A command from an event handler (which must not wait for the answer)."""
        task = asyncio.get_running_loop().create_task(self.call(method, **params))
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def read(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame)
            if "id" in message:
                answer = self._pending.pop(message["id"])
                if "error" in message:
                    answer.set_exception(CheckFailed(f"DevTools: {message['error']}"))
                else:
                    answer.set_result(message.get("result", {}))
            elif message.get("method") in self.handlers:
                self.handlers[message["method"]](message.get("params", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise CheckFailed(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str, problems: list[str]) -> Any:
        """The expression's value once truthy; fails on a timeout or a problem seen meanwhile."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if problems:
                raise CheckFailed(f"while waiting for {what}: {problems[0]}")
            try:
                value = await self.evaluate(expression)
            except CheckFailed as error:
                if "context" not in str(error).lower():
                    raise
                value = None  # the page is being replaced by the one navigated to
            if value:
                return value
            await asyncio.sleep(0.1)
        raise CheckFailed(f"no {what} within {WAIT:.0f} s")


@dataclass
class Traffic:
    """What the page asked for, and what went wrong."""

    allowed_host: str
    urls: list[str] = field(default_factory=list)
    by_id: dict[str, str] = field(default_factory=dict)
    sockets: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def is_local(self, url: str) -> bool:
        if url.startswith(LOCAL_SCHEMES):
            return True
        return urllib.parse.urlsplit(url).hostname in {"127.0.0.1", self.allowed_host}


def watch(devtools: DevTools, traffic: Traffic) -> None:
    def paused(event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        if traffic.is_local(url):
            devtools.send_soon("Fetch.continueRequest", requestId=event["requestId"])
        else:
            traffic.problems.append(f"request leaves the server: {url}")
            devtools.send_soon(
                "Fetch.failRequest", requestId=event["requestId"], errorReason="BlockedByClient"
            )

    def sent(event: dict[str, Any]) -> None:
        traffic.urls.append(event["request"]["url"])
        traffic.by_id[event["requestId"]] = event["request"]["url"]

    def received(event: dict[str, Any]) -> None:
        response = event["response"]
        if response["status"] >= 400:
            traffic.problems.append(f"HTTP {response['status']} for {response['url']}")

    def failed(event: dict[str, Any]) -> None:
        if not event.get("canceled"):
            url = traffic.by_id.get(event["requestId"], event["requestId"])
            traffic.problems.append(f"load failed ({event['errorText']}): {url}")

    def socket_created(event: dict[str, Any]) -> None:
        traffic.sockets.append(event["url"])
        if not traffic.is_local(event["url"]):
            traffic.problems.append(f"WebSocket leaves the server: {event['url']}")

    def thrown(event: dict[str, Any]) -> None:
        details = event["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text")
        traffic.problems.append(f"script error: {text}")

    def console(event: dict[str, Any]) -> None:
        if event["type"] == "error":
            texts = [str(arg.get("value", arg.get("description"))) for arg in event["args"]]
            traffic.problems.append("console error: " + " ".join(texts))

    def logged(event: dict[str, Any]) -> None:
        entry = event["entry"]
        if entry["level"] == "error":
            traffic.problems.append(f"browser log ({entry['source']}): {entry['text']}")

    devtools.handlers.update(
        {
            "Fetch.requestPaused": paused,
            "Network.requestWillBeSent": sent,
            "Network.responseReceived": received,
            "Network.loadingFailed": failed,
            "Network.webSocketCreated": socket_created,
            "Runtime.exceptionThrown": thrown,
            "Runtime.consoleAPICalled": console,
            "Log.entryAdded": logged,
        }
    )


# ---- the browser ---------------------------------------------------------------------------


@contextlib.contextmanager
def chromium() -> Iterator[str]:
    """A headless Chromium on a fresh profile: the base URL of its DevTools endpoint."""
    if not Path(CHROMIUM).exists():
        raise CheckFailed(f"{CHROMIUM} is missing: apt-get install -y chromium")
    profile = Path(tempfile.mkdtemp(prefix="graphiql-check-profile-"))
    process = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{_devtools_port(profile, process)}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_port(profile: Path, process: subprocess.Popen[bytes]) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CheckFailed(f"chromium exited with {process.returncode}")
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().split()[0])
        time.sleep(0.1)
    raise CheckFailed("chromium did not open its DevTools port")


@contextlib.asynccontextmanager
async def attached(browser: str) -> AsyncIterator[DevTools]:
    """DevTools attached to the browser's one page."""
    [page] = [t for t in get_json(f"{browser}/json/list") if t["type"] == "page"]
    async with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
        devtools = DevTools(ws)
        reader = asyncio.create_task(devtools.read())
        try:
            yield devtools
        finally:
            reader.cancel()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # DevTools on 127.0.0.1
        return json.load(response)


async def click(devtools: DevTools, selector: str, traffic: Traffic) -> None:
    """A real mouse click (pressed and released) on the element's center."""
    point = await devtools.wait_for(center_of(selector), selector, traffic.problems)
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        await devtools.call(
            "Input.dispatchMouseEvent",
            type=kind,
            x=point["x"],
            y=point["y"],
            button="left",
            clickCount=1,
        )
