"""Reading our HTML pages: the files they load and the addresses they name."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# An address a browser would fetch from elsewhere, or a CDN named in any form.
EXTERNAL = re.compile(
    r"https?://|wss?://|[\"'(=]\s*//|unpkg|jsdelivr|cdnjs|\bcdn\.", re.I
)


@dataclass(frozen=True)
class Asset:
    """A file a page loads (``<script src>``, ``<link href>``), with its SRI hash."""

    tag: str
    url: str
    integrity: str | None


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[Asset] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        url = values.get("src") or values.get("href")
        if url is not None and tag in ("script", "link", "img", "iframe"):
            self.assets.append(Asset(tag, url, values.get("integrity")))


def assets(html: str) -> list[Asset]:
    """Every file `html` loads, in order."""
    parser = _Assets()
    parser.feed(html)
    parser.close()
    return parser.assets


def sri_sha384(path: Path) -> str:
    """The Subresource Integrity value of a file's content."""
    digest = hashlib.sha384(path.read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def external_addresses(text: str) -> list[str]:
    """Each external address or CDN name in `text`, with a little context."""
    return [
        text[max(m.start() - 30, 0) : m.end() + 50] for m in EXTERNAL.finditer(text)
    ]
