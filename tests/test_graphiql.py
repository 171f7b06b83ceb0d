"""GraphiQL works without internet: the page refers only to this server, which serves every
asset (pinned, with their integrity hashes); with GRAPHIQL=false page and assets are 404.

The real-browser check of the same (page loads, token in the headers, a query and a
subscription run, nothing leaves 127.0.0.1) is tests/browser/check_graphiql.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx

from app.settings import Settings
from tests.conftest import Api, serving

PAGE = "http://testserver/graphql"
HTML = {"accept": "text/html"}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
# In script text: absolute URLs and protocol-relative ones in string literals.
SCRIPT_URL = re.compile(r"""\b(?:https?|wss?)://[^\s"'`)]+|["'`](//[^\s"'`]+)""")
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass
class References(HTMLParser):
    """Every URL a page makes the browser load: tag attributes, inline scripts and styles."""

    urls: list[str] = field(default_factory=list)
    integrity: dict[str, str] = field(default_factory=dict)
    scripts: int = 0
    stylesheets: int = 0
    _in: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            if values.get(name):
                self.urls.append(values[name])
                if "integrity" in values:
                    self.integrity[values[name]] = values["integrity"]
        self.scripts += tag == "script" and "src" in values
        self.stylesheets += tag == "link" and values.get("rel") == "stylesheet"
        if "style" in values:
            self.urls += _css_urls(values["style"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.urls += _css_urls(data)
        elif self._in == "script":
            self.urls += [match.group(1) or match.group(0) for match in SCRIPT_URL.finditer(data)]


def _css_urls(css: str) -> list[str]:
    return [match.group(1) or match.group(2) for match in CSS_URL.finditer(css)]


def _inline(url: str) -> bool:
    """Carried in the page or the stylesheet itself: nothing is fetched."""
    return url.startswith("data:")


def _same_origin(url: str) -> bool:
    return urlsplit(url)[:2] == urlsplit(PAGE)[:2]


async def _page_references(client: httpx.AsyncClient) -> References:
    page = await client.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = References()
    references.feed(page.text)
    return references


def _integrity(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def _served(client: httpx.AsyncClient, url: str) -> httpx.Response:
    response = await client.get(url)
    assert response.status_code == 200, url
    suffix = "." + urlsplit(url).path.rsplit(".", 1)[-1]
    assert response.headers["content-type"].startswith(MEDIA_TYPES[suffix]), url
    assert "immutable" in response.headers["cache-control"], url
    return response


async def test_graphiql_page_refers_only_to_assets_this_server_serves(api: Api) -> None:
    references = await _page_references(api.client)
    assert references.scripts >= 4 and references.stylesheets >= 2  # React, GraphiQL, explorer
    fetched = [urljoin(PAGE, url) for url in references.urls if not _inline(url)]
    elsewhere = [url for url in fetched if not _same_origin(url)]
    assert not elsewhere, f"the page loads from other origins: {elsewhere}"
    for url in fetched:
        response = await _served(api.client, url)
        sent = next((v for k, v in references.integrity.items() if urljoin(PAGE, k) == url), None)
        assert sent == _integrity(response.content), f"{url}: integrity attribute must match"
        if url.endswith(".css"):  # fonts and images the stylesheets use: inline or here
            for inner in [urljoin(url, u) for u in _css_urls(response.text)]:
                assert _inline(inner) or _same_origin(inner), f"{url} loads {inner}"
                if not _inline(inner):
                    await _served(api.client, inner)


async def test_graphiql_page_may_load_nothing_from_elsewhere(api: Api) -> None:
    """Its Content-Security-Policy names no host: a script that tried would be refused."""
    page = await api.client.get("/graphql", headers=HTML)
    policy = page.headers["content-security-policy"]
    sources = {source for rule in policy.split(";") for source in rule.split()[1:]}
    allowed = {"'self'", "'none'", "'unsafe-inline'", "data:"}
    assert {s for s in sources if not s.startswith("'sha256-")} <= allowed, policy
    assert "default-src 'self'" in policy


async def test_graphiql_takes_no_headers_from_its_url(api: Api) -> None:
    """A crafted link's `?headers=` went into the persisted headers: the victim then ran
    everything with the link's token (login CSRF). The page reads only the query and its
    variables from the URL (tests/browser/check_graphiql.py opens such a link); its inline
    script, changed for it, is still the one the policy admits."""
    page = await api.client.get("/graphql", headers=HTML)
    script = page.text.split("<script>", 1)[1].split("</script>", 1)[0]
    assert set(re.findall(r"parameters\.(\w+)", script)) == {"q", "variables"}
    assert not re.search(r"\bheaders: headers\b", script)  # GraphiQL keeps its persisted ones
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in page.headers["content-security-policy"]


async def test_only_graphiqls_assets_are_served_there(api: Api) -> None:
    for path in ("page.html", "README.md", "graphiql-3.8.3/LICENSE", "nothing.js"):
        assert (await api.client.get(f"/graphiql/{path}")).status_code == 404, path


async def test_graphiql_page_and_assets_are_404_when_switched_off(
    api: Api, settings: Settings
) -> None:
    assets = [
        urlsplit(urljoin(PAGE, url)).path
        for url in (await _page_references(api.client)).urls
        if not _inline(url) and _same_origin(urljoin(PAGE, url))
    ]
    assert len(assets) >= 6
    for path in assets:
        assert (await api.client.get(path)).status_code == 200, path
    async with serving(settings.model_copy(update={"graphiql": False})) as switched_off:
        assert (await switched_off.get("/graphql", headers=HTML)).status_code == 404
        for path in assets:
            assert (await switched_off.get(path)).status_code == 404, path
