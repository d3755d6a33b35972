"""GraphiQL served from this server's own files, for closed networks.

Strawberry's page loads seven files from a public CDN (unpkg). The same versions from
the npm registry are vendored under ``static/graphiql`` byte for byte, so the page keeps
its Subresource Integrity hashes and only the addresses change. See
``static/graphiql/README.md`` for the packages and their licences.

The page is also adjusted for API keys: the headers editor starts with a
``{"X-API-Key": "<your key>"}`` hint, and headers are never read from (nor, as since
Strawberry 0.327.2, written to) the address bar, where a key would leak into history,
logs and ``Referer`` headers.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "DEFAULT_HEADERS",
    "STATIC_DIR",
    "STATIC_PREFIX",
    "VENDORED",
    "local_graphiql_html",
]

#: The folder mounted at `STATIC_PREFIX`: GraphiQL's and the dashboard's files.
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Where `STATIC_DIR` is mounted.
STATIC_PREFIX = "/static"
#: What the headers editor shows until the user pastes a key (the README quotes it).
DEFAULT_HEADERS = '{"X-API-Key": "<your key>"}'

# (package@version, file in the package, folder below static/graphiql), in page order.
_FILES = (
    ("react@18.2.0", "umd/react.production.min.js", "react"),
    ("react-dom@18.2.0", "umd/react-dom.production.min.js", "react-dom"),
    ("js-cookie@3.0.5", "dist/js.cookie.min.js", "js-cookie"),
    ("graphiql@3.8.3", "graphiql.min.css", "graphiql"),
    ("@graphiql/plugin-explorer@1.0.2", "dist/style.css", "plugin-explorer"),
    ("graphiql@3.8.3", "graphiql.min.js", "graphiql"),
    ("@graphiql/plugin-explorer@1.0.2", "dist/index.umd.js", "plugin-explorer"),
)
#: CDN address in Strawberry's page -> the same file's path below `STATIC_DIR`.
VENDORED: dict[str, str] = {
    f"https://unpkg.com/{package}/{file}": f"graphiql/{folder}/{Path(file).name}"
    for package, file, folder in _FILES
}

_TITLE = "Agent Orchestrator · GraphiQL"
# The inline SVG favicon names the SVG namespace with an http:// address; a file keeps
# the page free of any URL that is not ours.
_FAVICON = re.compile(
    r'<link\s+rel="icon"\s+href="data:image/svg\+xml,.*?"\s*/>', re.DOTALL
)
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)
_WELCOME = """\
# Agent Orchestrator · GraphQL
#
# Liitä API-avaimesi alla olevalle Headers-välilehdelle:
# Paste your API key in the Headers tab below:
#
#     {"X-API-Key": "ao_..."}
#
# Suorita: Ctrl-Enter · Täydennä: Ctrl-Space
# Run: Ctrl-Enter · Complete: Ctrl-Space

{
  agents {
    id
    name
  }
}
"""
_EXTERNAL = re.compile(r"https?://|//(?:unpkg|cdn)|jsdelivr", re.IGNORECASE)


def _replace_once(html: str, old: str, new: str) -> str:
    if html.count(old) != 1:
        raise RuntimeError(
            f"Strawberry's GraphiQL page changed: {old!r} is not in it exactly once; "
            "update agent_orchestrator/web/graphiql.py and the vendored files to match."
        )
    return html.replace(old, new)


@functools.cache
def local_graphiql_html(static_prefix: str = STATIC_PREFIX) -> str:
    """Strawberry's GraphiQL page with every file served from `static_prefix`.

    The integrity attributes stay: the vendored files are the CDN's bytes. The headers
    editor starts with `DEFAULT_HEADERS`; headers are kept in the browser's storage
    (Strawberry's ``shouldPersistHeaders``) and never travel in the address bar.

    Args:
        static_prefix: The path `STATIC_DIR` is mounted at, without a trailing slash.

    Raises:
        RuntimeError: Strawberry's page no longer has a part this rewrite relies on, or
            still names an external address after it (a Strawberry upgrade changed it).
    """
    html = get_graphql_ide_html("graphiql")
    for url, path in VENDORED.items():
        html = _replace_once(html, f'"{url}"', f'"{static_prefix}/{path}"')
    html, favicons = _FAVICON.subn(
        f'<link rel="icon" href="{static_prefix}/graphiql/favicon.svg" />', html
    )
    if favicons != 1:
        raise RuntimeError(
            "Strawberry's GraphiQL page changed: its favicon link moved."
        )
    html = _replace_once(
        html, "<title>Strawberry GraphiQL</title>", f"<title>{_TITLE}</title>"
    )
    html, examples = _EXAMPLE_QUERY.subn(
        lambda _: f"const EXAMPLE_QUERY = {json.dumps(_WELCOME, ensure_ascii=False)};",
        html,
    )
    if examples != 1:
        raise RuntimeError("Strawberry's GraphiQL page changed: EXAMPLE_QUERY moved.")
    # A link that carries ?headers=... must not choose the key this page sends.
    html = _replace_once(
        html, "React.useState(parameters.headers)", "React.useState(undefined)"
    )
    enabled = "isHeadersEditorEnabled: true,"
    hint = f"defaultHeaders: {json.dumps(DEFAULT_HEADERS)},"
    html = _replace_once(html, enabled, f"{enabled}\n          {hint}")
    if (found := _EXTERNAL.search(html)) is not None:
        raise RuntimeError(
            f"Strawberry's GraphiQL page still names an external address near "
            f"{html[max(found.start() - 40, 0) : found.end() + 40]!r}"
        )
    return html
