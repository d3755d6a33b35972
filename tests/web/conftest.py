"""Fixtures for the web pages' tests: a stand-in server and a watched headless page."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.web.apps import Seen, create_app
from tests.web.browser import Traffic, open_page, serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page


@pytest.fixture
def seen() -> Seen:
    """What the stand-in server received."""
    return Seen()


@pytest.fixture
def server_url(seen: Seen) -> Iterator[str]:
    """The stand-in server (GraphiQL, dashboard, static files) on a loopback port."""
    with serve_in_thread(create_app(seen)) as url:
        yield url


@pytest.fixture
def traffic() -> Traffic:
    """The browser page's requests, failures and errors."""
    return Traffic()


@pytest.fixture
def browser_page(traffic: Traffic) -> Iterator[Page]:
    """A fresh headless Chromium page; it may reach loopback addresses only."""
    with open_page(traffic) as page:
        yield page
