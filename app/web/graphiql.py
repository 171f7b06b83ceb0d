"""GraphiQL from this server alone: the page and its pinned assets, no CDN, so the IDE works
on a machine without internet.

The assets are the official npm builds strawberry's own GraphiQL template loads from unpkg,
byte for byte (their integrity hashes are the ones in strawberry's template), committed in
`app/web/static/graphiql/` (where each file came from and how to update them: README.md there).
URLs carry the package version, so browsers keep them for good. The page refers to them
relative to itself (`/graphql` -> `/graphiql/...`, also behind a path prefix), and its
Content-Security-Policy lets it load nothing from anywhere else. With GraphiQL switched off
neither the page nor the asset routes exist.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from app.settings import Settings

STATIC = Path(__file__).parent / "static" / "graphiql"
ASSET_ROUTE = "/graphiql"
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    path: str  # "<package>-<version>/<file>": under STATIC, and the URL under ASSET_ROUTE
    integrity: str  # the upstream file's SRI hash: the browser refuses any other bytes

    @property
    def media_type(self) -> str:
        return "text/css" if self.path.endswith(".css") else "text/javascript"

    @property
    def url(self) -> str:
        """Relative to the page at /graphql."""
        return f"{ASSET_ROUTE.lstrip('/')}/{self.path}"


STYLES = (
    Asset(
        "graphiql-3.8.3/graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "graphiql-plugin-explorer-1.0.2/style.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
)
SCRIPTS = (  # in load order: GraphiQL needs React, the explorer needs GraphiQL
    Asset(
        "react-18.2.0/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "react-dom-18.2.0/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql-3.8.3/graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "graphiql-plugin-explorer-1.0.2/index.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)
ASSETS = {asset.path: asset for asset in (*STYLES, *SCRIPTS)}


@dataclass(frozen=True)
class Page:
    html: str
    security_policy: str


def _inline_script(html: str) -> str:
    """The page's one inline script, exactly as the browser hashes it for the policy."""
    start = html.index("<script>") + len("<script>")
    return html[start : html.index("</script>", start)]


@cache
def page() -> Page:
    template = (STATIC / "page.html").read_text(encoding="utf-8")
    styles = "\n    ".join(
        f'<link rel="stylesheet" href="{a.url}" integrity="{a.integrity}" />' for a in STYLES
    )
    scripts = "\n    ".join(
        f'<script src="{a.url}" integrity="{a.integrity}"></script>' for a in SCRIPTS
    )
    html = template.replace("<!-- assets:styles -->", styles).replace(
        "<!-- assets:scripts -->", scripts
    )
    digest = hashlib.sha256(_inline_script(html).encode()).digest()
    script_hash = "sha256-" + base64.b64encode(digest).decode()
    # 'self' covers the same-origin WebSocket of subscriptions; data: the icon and the fonts
    # and images graphiql.min.css carries inline; React and GraphiQL set inline styles.
    policy = "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' '{script_hash}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )
    return Page(html, policy)


def page_response() -> Response:
    current = page()
    return HTMLResponse(
        current.html,
        headers={
            "Cache-Control": "no-cache",  # a new release names new asset versions
            "Content-Security-Policy": current.security_policy,
            "X-Content-Type-Options": "nosniff",
        },
    )


async def serve_asset(request: Request) -> Response:
    asset = ASSETS.get(request.path_params["path"])
    if asset is None:  # only the listed files: not the template, READMEs or anything else
        return PlainTextResponse("Not Found", status_code=404)
    return FileResponse(
        STATIC / asset.path,
        media_type=asset.media_type,
        headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
    )


def graphiql_routes(settings: Settings) -> list[BaseRoute]:
    if not settings.graphiql_enabled:
        return []
    return [Route(ASSET_ROUTE + "/{path:path}", serve_asset, methods=["GET", "HEAD"])]
