"""A real OpenAI-compatible HTTP server on loopback, for tests that drive the real
`openai` client.

The server is a Starlette app run by uvicorn in a background thread on a free
``127.0.0.1`` port. Tests queue the replies it gives, in order, and read the JSON
bodies it received::

    with fake_openai() as fake:
        fake.reply('{"template_id": "vat_report"}', Status(429), Delay(5, "late"))
        async with openai.AsyncOpenAI(
            base_url=fake.base_url, api_key=fake.api_key, max_retries=0
        ) as client:
            ...
        assert fake.requests[0]["model"] == "gpt-4o-mini"

Endpoints:
    ``POST /v1/chat/completions``: every call takes the next queued reply (vision
    requests, whose messages carry ``image_url`` content parts, are answered the same
    way). With the queue empty it answers 500 with an OpenAI-style error body, so a
    test that forgets a reply fails loudly. A request whose ``Authorization`` header
    is not ``Bearer <api_key>`` gets 401 ``invalid_api_key`` and takes no reply (it is
    still recorded in `requests`).
    ``GET /v1/models``: lists one model, ``gpt-4o-mini`` (401 for a wrong key).

Replies (`Reply`):
    ``str``: the content of a normal completion (``finish_reason`` "stop", usage with
    token counts, the request's model).
    ``dict``: a full completion JSON, sent as is (e.g. ``completion(None,
    refusal="...")`` or ``completion("{", finish_reason="length")``).
    callable: called with the request body; returns a reply of any kind above
    (normally a full completion dict).
    ``Delay(seconds, reply)``: waits (``asyncio.sleep``), then answers with `reply`;
    for client timeouts. Stopping the server ends pending delays at once.
    ``Status(code, body, headers)``: answers that HTTP status; without a body, an
    OpenAI-style error body fitting the code.
    ``Raw(body, status, content_type)``: answers these bytes as they are, e.g. the
    HTML page of a proxy in front of the model, or JSON that is no completion.

What the `openai` 3.x client does with them: `chat.completions.parse` accepts any
completion whose content is the JSON of the response model; ``finish_reason``
"length" raises `openai.LengthFinishReasonError`; a refusal gives ``parsed=None``;
a status of 400 or more raises `openai.APIStatusError` (429 `RateLimitError`, 401
`AuthenticationError`, 5xx `InternalServerError`); a delay beyond the client's
timeout raises `openai.APITimeoutError`. Create clients with ``max_retries=0`` so
that each call takes exactly one reply.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.requests import Request
    from starlette.types import ASGIApp

__all__ = [
    "Delay",
    "FakeOpenAI",
    "Raw",
    "Reply",
    "Status",
    "completion",
    "fake_openai",
    "serve_app",
]

MODEL = "gpt-4o-mini"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Delay:
    """Wait `seconds`, then answer with `reply`.

    Attributes:
        seconds: How long to wait before answering.
        reply: The answer after the wait.
    """

    seconds: float
    reply: Reply = ""


@dataclass(frozen=True)
class Status:
    """Answer with an HTTP status.

    Attributes:
        code: The status, e.g. 429 or 500.
        body: The JSON body; None gives an OpenAI-style error body for the code.
        headers: Extra response headers, e.g. ``{"retry-after": "1"}``.
    """

    code: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Raw:
    """Answer with a body as it is, not a completion.

    Attributes:
        body: The bytes (or text, sent as UTF-8) of the answer.
        status: The HTTP status.
        content_type: The ``Content-Type`` header.
    """

    body: str | bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"


Reply: TypeAlias = (
    str | dict[str, Any] | Callable[[dict[str, Any]], Any] | Delay | Status | Raw
)

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def error_body(code: int, message: str | None = None) -> dict[str, Any]:
    """An OpenAI-style error body for an HTTP status."""
    kind, err_code = _ERROR_TYPES.get(code, ("server_error", None))
    return {
        "error": {
            "message": message or f"fake OpenAI server: HTTP {code}",
            "type": kind,
            "param": None,
            "code": err_code,
        }
    }


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    model: str = MODEL,
) -> dict[str, Any]:
    """A full chat completion JSON with one choice.

    Args:
        content: The assistant message's content (None with a refusal).
        finish_reason: ``stop``, ``length``, ``content_filter``, ...
        refusal: The model's refusal text, if it refused.
        prompt_tokens: Reported prompt tokens.
        completion_tokens: Reported completion tokens.
        model: The model named in the completion.
    """
    return {
        "id": f"chatcmpl-fake-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": refusal,
                },
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeOpenAI:
    """The state of one fake server: queued replies and received requests.

    Attributes:
        base_url: ``http://127.0.0.1:<port>/v1``, for ``OPENAI_BASE_URL``.
        api_key: The key clients must send, for ``OPENAI_API_KEY``.
        requests: JSON bodies received at ``POST /v1/chat/completions``, in order.
        headers: The request headers of each of `requests` (lower-cased names).
    """

    def __init__(self, api_key: str = "sk-test") -> None:
        self.base_url = ""
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    def env(self, model: str = "gpt-4o-mini") -> dict[str, str]:
        """The settings that point a server process at this fake."""
        return {
            "OPENAI_API_KEY": self.api_key,
            "OPENAI_BASE_URL": self.base_url,
            "OPENAI_MODEL": model,
        }

    def reply(self, *replies: Reply) -> None:
        """Queue replies; each chat completion request takes the next one."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies no request has taken yet."""
        with self._lock:
            return len(self._replies)

    async def _chat(self, request: Request) -> Response:
        if self._stopping is None:
            self._stopping = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            if request.headers.get("authorization") != f"Bearer {self.api_key}":
                return JSONResponse(
                    error_body(401, "Incorrect API key provided."), status_code=401
                )
            reply = self._replies.popleft() if self._replies else None
        if reply is None:
            message = "fake OpenAI server: no reply queued for this request"
            return JSONResponse(error_body(500, message), status_code=500)
        return await self._answer(reply, body)

    async def _answer(self, reply: Reply, body: dict[str, Any]) -> Response:
        if isinstance(reply, Delay):
            assert self._stopping is not None
            try:
                await asyncio.wait_for(self._stopping.wait(), reply.seconds)
            except TimeoutError:
                pass
            return await self._answer(reply.reply, body)
        if isinstance(reply, Status):
            content = reply.body if reply.body is not None else error_body(reply.code)
            return JSONResponse(
                content, status_code=reply.code, headers=reply.headers or None
            )
        if isinstance(reply, Raw):
            return Response(
                reply.body, status_code=reply.status, media_type=reply.content_type
            )
        if isinstance(reply, str):
            return JSONResponse(completion(reply, model=body.get("model", MODEL)))
        if isinstance(reply, dict):
            return JSONResponse(reply)
        return await self._answer(reply(body), body)

    async def _models(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse(
                error_body(401, "Incorrect API key provided."), status_code=401
            )
        created = int(time.time())
        model = {"id": MODEL, "object": "model", "created": created, "owned_by": "fake"}
        return JSONResponse({"object": "list", "data": [model]})

    def _stop_delays(self) -> None:
        if self._stopping is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)


@contextmanager
def serve_app(app: ASGIApp, *, timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yield its URL.

    Lifespan is off; the server stops when the block ends.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


@contextmanager
def fake_openai(api_key: str = "sk-test") -> Iterator[FakeOpenAI]:
    """Start a fake OpenAI server; stop it when the block ends.

    Args:
        api_key: The key clients must send as ``Authorization: Bearer <key>``.
    """
    fake = FakeOpenAI(api_key)
    with serve_app(fake.app) as url:
        fake.base_url = f"{url}/v1"
        try:
            yield fake
        finally:
            # End pending `Delay`s so that uvicorn's graceful shutdown is quick.
            fake._stop_delays()
