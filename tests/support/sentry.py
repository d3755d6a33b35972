"""A stand-in Sentry: an HTTP server on loopback that keeps the envelopes the SDK
sends (the DSN ``http://public@127.0.0.1:<port>/1`` points at it)."""

from __future__ import annotations

import gzip
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeSentry:
    """Collects envelopes; a context manager that serves in a thread.

    Example::

        with FakeSentry() as sentry:
            env = {"SENTRY_DSN": sentry.dsn}
            ...
            assert any("boom" in e for e in sentry.envelopes)
    """

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        received = self.envelopes
        self.arrived = arrived = threading.Condition()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                with arrived:
                    received.append(body.decode("utf-8", "replace"))
                    arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self.server.server_address[1]
        self.dsn = f"http://public@127.0.0.1:{port}/1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, text: str, timeout: float) -> None:
        """Block until an envelope holding `text` has arrived.

        Raises:
            AssertionError: None came within `timeout` seconds.
        """
        with self.arrived:
            if not self.arrived.wait_for(
                lambda: any(text in e for e in self.envelopes), timeout
            ):
                raise AssertionError(f"no Sentry envelope with {text!r} in {timeout} s")

    def __enter__(self) -> FakeSentry:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
