"""The GraphiQL page loads only vendored files, byte-identical to what its SRI names."""

from __future__ import annotations

import json
import re

import pytest
from strawberry.http.ides import get_graphql_ide_html

from agent_orchestrator.web import graphiql
from agent_orchestrator.web.graphiql import (
    DEFAULT_HEADERS,
    STATIC_DIR,
    STATIC_PREFIX,
    VENDORED,
    local_graphiql_html,
)
from tests.web.pages import assets, external_addresses, sri_sha384

GRAPHIQL_DIR = STATIC_DIR / "graphiql"
PACKAGES = {  # folder below static/graphiql -> package@version in Strawberry's page
    "react": "react@18.2.0",
    "react-dom": "react-dom@18.2.0",
    "js-cookie": "js-cookie@3.0.5",
    "graphiql": "graphiql@3.8.3",
    "plugin-explorer": "@graphiql/plugin-explorer@1.0.2",
}


def test_the_page_names_no_external_address() -> None:
    html = local_graphiql_html()

    assert external_addresses(html) == []
    assert not re.search(r"https?://", html)
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html


def test_every_file_is_served_from_the_static_folder() -> None:
    loaded = assets(local_graphiql_html())

    assert len(loaded) == len(VENDORED) + 1  # and the favicon
    for asset in loaded:
        assert asset.url.startswith(STATIC_PREFIX + "/"), asset
        assert (STATIC_DIR / asset.url.removeprefix(STATIC_PREFIX + "/")).is_file(), (
            asset
        )


def test_every_vendored_file_matches_its_integrity_attribute() -> None:
    checked = 0
    for asset in assets(local_graphiql_html()):
        if asset.url.endswith("favicon.svg"):
            continue
        assert asset.integrity is not None, f"{asset.url} lost its integrity attribute"
        path = STATIC_DIR / asset.url.removeprefix(STATIC_PREFIX + "/")
        assert sri_sha384(path) == asset.integrity, asset.url
        checked += 1
    assert checked == len(VENDORED) == 7


def test_the_hashes_are_strawberrys_own() -> None:
    """The rewrite changes addresses only: each CDN URL's SRI value in Strawberry's page
    is the one our local copy carries."""
    original = assets(get_graphql_ide_html("graphiql"))
    by_url = {a.url: a.integrity for a in original}
    for url, path in VENDORED.items():
        assert by_url[url] == sri_sha384(STATIC_DIR / path), url


def test_another_static_prefix_is_used_throughout() -> None:
    html = local_graphiql_html("/assets/v1")

    assert all(a.url.startswith("/assets/v1/graphiql/") for a in assets(html))
    assert "/static/" not in html


def test_the_headers_editor_hints_at_the_key_and_headers_stay_out_of_the_url() -> None:
    html = local_graphiql_html()

    assert DEFAULT_HEADERS == '{"X-API-Key": "<your key>"}'
    assert f"defaultHeaders: {json.dumps(DEFAULT_HEADERS)}," in html
    assert "isHeadersEditorEnabled: true" in html
    # Never read from the address bar (a shared link must not pick the key) ...
    assert "parameters.headers" not in html
    # ... nor written to it: only the query and variables are (Strawberry >= 0.327.2).
    assert re.findall(r"updateURL\(\{\s*(\w+)", html) == ["q", "variables"]


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_each_vendored_package_has_its_licence_and_is_documented(folder: str) -> None:
    licence = (GRAPHIQL_DIR / folder / "LICENSE").read_text()
    readme = (GRAPHIQL_DIR / "README.md").read_text()
    name, version = PACKAGES[folder].rsplit("@", 1)

    assert "MIT License" in licence and "Permission is hereby granted" in licence
    assert f"{name} {version}" in readme
    assert f"/-/{name.rsplit('/', 1)[-1]}-{version}.tgz" in readme
    assert any(path.startswith(f"graphiql/{folder}/") for path in VENDORED.values())


def test_the_explorer_bundles_graphiql_explorer_whose_licence_is_kept() -> None:
    bundle = (GRAPHIQL_DIR / "plugin-explorer" / "index.umd.js").read_text()
    licence = GRAPHIQL_DIR / "plugin-explorer" / "LICENSE.graphiql-explorer"

    assert "OneGraph" in bundle
    assert "MIT License" in licence.read_text()


def test_a_changed_strawberry_page_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = get_graphql_ide_html("graphiql")
    unwrapped = local_graphiql_html.__wrapped__

    monkeypatch.setattr(
        graphiql,
        "get_graphql_ide_html",
        lambda ide: page.replace("graphiql@3.8.3", "graphiql@9"),
    )
    with pytest.raises(RuntimeError, match="graphiql@3.8.3"):
        unwrapped(STATIC_PREFIX)

    extra = page.replace(
        "</head>", '<link rel="stylesheet" href="https://fonts.example/x.css"></head>'
    )
    monkeypatch.setattr(graphiql, "get_graphql_ide_html", lambda ide: extra)
    with pytest.raises(RuntimeError, match="external address"):
        unwrapped(STATIC_PREFIX)
