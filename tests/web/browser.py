"""A real headless Chromium (Debian's, driven by Playwright) and a loopback server, for
browser tests anywhere in the suite.

Example::

    traffic = Traffic()
    with serve_in_thread(app) as url, open_page(traffic) as page:
        page.goto(url + "/graphql")
        page.wait_for_selector(".graphiql-query-editor .CodeMirror")
    traffic.assert_clean()

The browser may reach loopback addresses only: any other request is aborted and
counted as a failure, as it would fail in a closed network. A missing Chromium fails
the test (it is installed by ``scripts/install-system-packages.sh``); it never skips.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import uvicorn
from playwright.sync_api import Request, expect, sync_playwright

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import ConsoleMessage, Page, Response, Route
    from starlette.types import ASGIApp

CHROMIUM = Path("/usr/bin/chromium")
# ECOSYSTEM.md: how Playwright drives Debian's Chromium here (no `playwright install`).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
#: Seconds a page action or an `expect` may wait: the machine has two cores and other
#: suites may run beside the browser (Playwright's default for `expect` is 5 s).
TIMEOUT_S = 15.0
_LOCAL_SCHEMES = frozenset({"data", "blob", "about", "chrome-error"})


def is_loopback(url: str) -> bool:
    """Whether `url` stays on this machine (loopback host, or no network at all)."""
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Traffic:
    """What a page did on the network and in its console, filled in by `open_page`."""

    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    #: Requests sent and not yet answered or failed.
    in_flight: set[Request] = field(default_factory=set)

    def settle(self, page: Page, timeout_s: float = TIMEOUT_S) -> None:
        """Return once no request of the page is in flight (Playwright delivers the
        page's events while it waits)."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight:
            assert time.monotonic() < deadline, f"still in flight: {self.in_flight}"
            page.wait_for_timeout(20)

    def assert_clean(self) -> None:
        """Fail if a request failed, left the machine or got a 4xx/5xx, or a script
        error or console error was seen."""
        problems = [*self.failures, *self.errors]
        assert not problems, "browser trouble:\n" + "\n".join(problems)

    def _request(self, request: Request) -> None:
        self.requests.append(f"{request.method} {request.url}")
        self.in_flight.add(request)

    def _finished(self, request: Request) -> None:
        self.in_flight.discard(request)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failures.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def _failed(self, request: Request) -> None:
        self.in_flight.discard(request)
        self.failures.append(
            f"failed ({request.failure}): {request.method} {request.url}"
        )

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text}")

    def _page_error(self, error: Exception) -> None:
        self.errors.append(f"page error: {error}")


@contextmanager
def open_page(traffic: Traffic | None = None) -> Iterator[Page]:
    """A fresh page in a fresh browser context of a headless Chromium.

    Args:
        traffic: Filled in with the page's requests, failures and errors; without one,
            only a request that tries to leave the machine fails the test (on exit).

    Raises:
        RuntimeError: Chromium is not installed.
    """
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(bash scripts/install-system-packages.sh)"
        )
    seen = traffic if traffic is not None else Traffic()
    outside: list[str] = []

    def guard(route: Route) -> None:
        if is_loopback(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            seen.failures.append(
                f"left the machine: {route.request.method} {route.request.url}"
            )
            route.abort("blockedbyclient")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS
        )
        try:
            context = browser.new_context()
            context.route("**/*", guard)
            context.set_default_timeout(TIMEOUT_S * 1000)
            expect.set_options(timeout=TIMEOUT_S * 1000)
            page = context.new_page()
            page.on("request", seen._request)
            page.on("response", seen._response)
            page.on("requestfailed", seen._failed)
            page.on("requestfinished", seen._finished)
            page.on("console", seen._console)
            page.on("pageerror", seen._page_error)
            page.on("websocket", lambda ws: seen.websockets.append(ws.url))
            yield page
            context.close()
        finally:
            browser.close()
    outside += [url for url in seen.websockets if not is_loopback(url)]
    assert not outside, f"the page tried to leave the machine: {outside}"


@contextmanager
def serve_in_thread(app: ASGIApp, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yield its URL.

    Lifespan is off: give the app what it needs before serving it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
