"""The GraphiQL page and /graphiql/assets/: every byte from the hub's own origin.

The page loads React, ReactDOM and GraphiQL from the npm packages installed at set-up
(hub.web.assets) and the sign-in panel's script from hub/web/static; no CDN, so it works
on an isolated network. Its Content-Security-Policy allows scripts and connections to the
hub's origin only and no inline script at all. URLs are relative to /graphql, so the page
also works under a proxy's path prefix. Not served in production (Settings.is_production).
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from hub.web.assets import WEB_DIR, GraphiQLAssets, install_command, pinned_versions

ASSETS_PREFIX = "graphiql/assets"
# The panel's own files, served as /graphiql/assets/hub/<name>.
HUB_PACKAGE = "hub"
SERVED_SUFFIXES = {".js": "text/javascript", ".css": "text/css", ".map": "application/json"}
DEMO_CREDENTIALS = "hub-demo-clients.json"  # `hub demo --credentials` default

# CodeMirror and React set style attributes ('unsafe-inline' styles); GraphiQL's fonts are
# data: URLs inside its CSS. Scripts: the hub's origin only, none inline, no eval.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hub GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/graphiql/graphiql.min.css?v={graphiql}">
<link rel="stylesheet" href="{assets}/hub/graphiql-page.css">
</head>
<body>
<form id="hub-signin" method="post" autocomplete="off" data-graphql-url="graphql"
      data-token-url="oauth/token" data-revoke-url="oauth/revoke"
      data-demo-credentials="{demo}">
  <strong class="hub-title">Hub GraphiQL</strong>
  <span id="hub-signin-fields">
    <label>Client id <input id="hub-client-id" name="client_id" required spellcheck="false"></label>
    <label>Client secret <input id="hub-client-secret" name="client_secret" type="password"
      required autocomplete="off"></label>
    <label>Scopes <input id="hub-scope" name="scope" placeholder="all of the client's"
      spellcheck="false"></label>
    <button id="hub-signin-button" type="submit">Sign in</button>
  </span>
  <span id="hub-signed-in" hidden>Signed in as <code id="hub-signed-in-client"></code>
    <span id="hub-signed-in-scope"></span>
    <button id="hub-signout-button" type="button">Sign out</button></span>
  <span id="hub-signin-status" role="status" aria-live="polite">Not signed in: enter a client
    id and secret (the demo clients are in <code>{demo}</code>, written by
    <code>hub demo</code>).</span>
</form>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{assets}/react/umd/react.production.min.js?v={react}"></script>
<script src="{assets}/react-dom/umd/react-dom.production.min.js?v={react_dom}"></script>
<script src="{assets}/graphiql/graphiql.min.js?v={graphiql}"></script>
<script src="{assets}/hub/graphiql-page.js"></script>
</body>
</html>
"""

_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Hub GraphiQL: assets not installed</title></head>
<body style="font-family: sans-serif; max-width: 48rem; margin: 2rem auto">
<h1>GraphiQL's assets are not installed</h1>
<p>The hub serves GraphiQL from npm packages installed at set-up, not from a CDN.
These are missing: <code>{missing}</code>.</p>
<p>Install them (from the npm registry or your mirror of it) and reload this page:</p>
<pre id="install-command">{command}</pre>
<p>or <code>make run</code>, or <code>python -m hub.web.assets</code>. The GraphQL API at this
URL works without them.</p>
</body>
</html>
"""


def page(assets: GraphiQLAssets) -> Response:
    """The GraphiQL page, or (200, never 500) the page naming the install command."""
    missing = assets.missing()
    if missing:
        body = _MISSING.format(
            missing=html.escape(", ".join(missing)),
            command=html.escape(" ".join(install_command(WEB_DIR))),
        )
        return HTMLResponse(body, status_code=200, headers=PAGE_HEADERS)
    versions = pinned_versions()
    body = _PAGE.format(
        assets=ASSETS_PREFIX,
        demo=html.escape(DEMO_CREDENTIALS),
        graphiql=html.escape(versions["graphiql"]),
        react=html.escape(versions["react"]),
        react_dom=html.escape(versions["react-dom"]),
    )
    return HTMLResponse(body, headers=PAGE_HEADERS)


def _not_found() -> Response:
    return JSONResponse(
        {"errors": [{"message": "no such asset", "extensions": {"code": "NOT_FOUND"}}]},
        status_code=404,
    )


def resolve_asset(assets: GraphiQLAssets, package: str, path: str) -> Path | None:
    """The file a URL names, if it is a served kind of file inside a served package."""
    base = assets.static if package == HUB_PACKAGE else assets.package_dir(package)
    if base is None or not path or "\\" in path or "\x00" in path:
        return None
    if Path(path).suffix not in SERVED_SUFFIXES:
        return None
    try:
        root = base.resolve(strict=True)
        candidate = (root / path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    # Resolved (symbolic links and '..' followed), it must still be inside the package.
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


async def asset(request: Request) -> Response:
    """GET /graphiql/assets/{package}/{path}: a file of GraphiQL's installed packages."""
    if request.app.state.runtime.settings.is_production:
        return _not_found()  # GraphiQL is off in production, its files too
    assets: GraphiQLAssets = request.app.state.graphiql_assets
    package = request.path_params["package"]
    found = resolve_asset(assets, package, request.path_params["path"])
    if found is None:
        return _not_found()
    media_type = SERVED_SUFFIXES.get(found.suffix) or mimetypes.guess_type(found.name)[0]
    return FileResponse(
        found,
        media_type=media_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            # The page names a package's files with its version (?v=), so a day is safe; the
            # hub's own files change with the hub and are revalidated (ETag) each time.
            "Cache-Control": "no-cache" if package == HUB_PACKAGE else "public, max-age=86400",
        },
    )


ROUTES = [Route("/graphiql/assets/{package}/{path:path}", asset, methods=["GET", "HEAD"])]
