"""Every argument of every operation, input-object fields included, gets every hostile
value of a hand-made list, one at a time, on a real server per database with an ADMIN
key: no HTTP 500, no error without one of our codes (a masked "Internal server error"
included), nothing that looks like a stack trace or SQL, and no traceback in the
server's log.

The schema is walked by introspection; each operation is built with valid values for
its other arguments (so that the hostile one is what the server judges) and asks for
the scalar fields of what it returns.
"""

from __future__ import annotations

import collections
import json
import re
import time
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import websockets
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
)

from tests.support.gql import ws_connect

if TYPE_CHECKING:
    from tests.api.conftest import Api

# Thousands of requests a database: on a busy machine more than the suite's default
# two minutes; the guard is against a hang, not a time goal.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
OUR_CODES = {
    "VALIDATION_FAILED",
    "NOT_FOUND",
    "FORBIDDEN",
    "CONFLICT",
    "PLANNING_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
}
LEAKS = re.compile(
    r"Traceback|File \"|sqlalchemy|asyncpg|aiosqlite|psycopg|SELECT |INSERT INTO|"
    r"UPDATE agent_|sqlite3",
    re.IGNORECASE,
)
CONCURRENCY = 6
ECHO = {"steps": [{"id": "a", "agent": "echo_agent", "inputs": {"value": 1}}]}


def deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": [value]}
    return value


HOSTILE: dict[str, Any] = {
    "empty": "",
    "10k chars": "x" * 10_000,
    "NUL": "a\x00b",
    "lone surrogate": "a\ud800b",
    "RTL override": "\u202egpj.exe",
    "path traversal": "../../etc/passwd",
    "percent NUL": "%00",
    "SQL and LIKE": "%_'\"\\; DROP TABLE agent_audit_logs; --",
    "unicode digits": "²٣",
    "emoji": "🧾💶😀",
    "5000 digits as text": "9" * 5_000,
    "NaN text": "NaN",
    "Infinity text": "-Infinity",
    "big int": 2**31,
    "huge int": 10**40,
    "negative": -1,
    "zero": 0,
    "fraction": 1.5,
    "true": True,
    "null": None,
    "empty list": [],
    "300 items": ["x"] * 300,
    "empty object": {},
    "object": {"$where": "1", "__proto__": {"admin": True}},
    "nested 300": deep(150),
    "nested 30": deep(15),
    "date 0001": "0001-01-01",
    "date 9999": "9999-12-31",
    "time 0001+14": "0001-01-01T00:00:00+14:00",
    "time 9999-14": "9999-12-31T23:59:59-14:00",
    "naive 0001": "0001-01-01T00:00:00",
    "Feb 30": "2026-02-30",
    "enum-like": "ADMIN",
}


class Fuzz:
    """Builds and sends the operations for one server."""

    def __init__(self, api: Api, schema: GraphQLSchema, valid: dict[str, Any]) -> None:
        self.api = api
        self.schema = schema
        self.valid = valid
        self.codes: collections.Counter[str] = collections.Counter()
        self.failures: list[str] = []
        self.http_500 = 0
        self.unexpected = 0
        self.requests = 0

    def baseline(self, field: str, arg: str, type_: GraphQLInputType) -> Any:
        """A valid value for an argument (or an input field), or None to omit it."""
        named = get_named_type(type_)
        key = f"{field}.{arg}"
        if key in self.valid:
            return self.valid[key]
        if arg in self.valid:
            return self.valid[arg]
        if not isinstance(type_, GraphQLNonNull):
            return None
        if isinstance(named, GraphQLEnumType):
            value = next(iter(named.values))
        elif isinstance(named, GraphQLInputObjectType):
            value = {
                name: self.baseline(named.name, name, f.type)
                for name, f in named.fields.items()
                if isinstance(f.type, GraphQLNonNull)
            }
        else:
            value = {
                "String": "fuzz",
                "ID": "fuzz",
                "Int": 1,
                "Boolean": True,
                "JSON": {},
                "DateTime": "2026-11-24T00:00:00+00:00",
                "Date": "2026-11-24",
            }[named.name]
        if isinstance(type_.of_type, GraphQLList):
            return [value]
        return value

    def selection(self, type_: GraphQLOutputType, depth: int = 0) -> str:
        named = get_named_type(type_)
        if is_leaf_type(named):
            return ""
        assert isinstance(named, GraphQLObjectType)
        parts = ["__typename"]
        for name, field in named.fields.items():
            if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
                continue
            inner = get_named_type(field.type)
            if is_leaf_type(inner):
                parts.append(name)
            elif depth < 2 and isinstance(inner, GraphQLObjectType):
                parts.append(f"{name} {self.selection(field.type, depth + 1)}")
        return "{ " + " ".join(parts) + " }"

    def cases(
        self, kinds: tuple[str, ...] = ("query", "mutation")
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(label, document, variables) for each operation x argument x value."""
        cases: list[tuple[str, str, dict[str, Any]]] = []
        types = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }
        for kind in kinds:
            root = types[kind]
            assert root is not None
            for name, field in root.fields.items():
                definitions = ", ".join(
                    f"${arg}: {a.type}" for arg, a in field.args.items()
                )
                arguments = ", ".join(f"{arg}: ${arg}" for arg in field.args)
                document = (
                    f"{kind}{f'({definitions})' if definitions else ''} "
                    f"{{ {name}{f'({arguments})' if arguments else ''} "
                    f"{self.selection(field.type)} }}"
                )
                base = {
                    arg: self.baseline(name, arg, a.type)
                    for arg, a in field.args.items()
                }
                base = {k: v for k, v in base.items() if v is not None}
                if not field.args:
                    cases.append((f"{name}", document, {}))
                for arg, a in field.args.items():
                    for path, make in self.targets(name, arg, a.type, base.get(arg)):
                        for label, value in HOSTILE.items():
                            variables = {**base, arg: make(value)}
                            cases.append(
                                (f"{name}({path}) <- {label}", document, variables)
                            )
        return cases

    def targets(
        self, field: str, arg: str, type_: GraphQLInputType, base: Any
    ) -> list[tuple[str, Any]]:
        """Where a hostile value goes: the argument itself, and each field of an
        input object (nested ones too) with the others valid."""
        targets: list[tuple[str, Any]] = [(arg, lambda v: v)]
        named = get_named_type(type_)
        if isinstance(named, GraphQLInputObjectType):
            targets += self.input_fields(named, arg, base or {})
        return targets

    def input_fields(
        self, named: GraphQLInputObjectType, path: str, base: dict[str, Any]
    ) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for name, f in named.fields.items():
            inner = get_named_type(f.type)

            def put(v: Any, name: str = name) -> dict[str, Any]:
                return {**base, name: v}

            out.append((f"{path}.{name}", put))
            if isinstance(inner, GraphQLInputObjectType):
                nested_base = base.get(name) or {}
                for sub, make in self.input_fields(
                    inner, f"{path}.{name}", nested_base
                ):

                    def put_nested(
                        v: Any, name: str = name, make: Any = make
                    ) -> dict[str, Any]:
                        return {**base, name: make(v)}

                    out.append((sub, put_nested))
        return out

    async def send(
        self, http: httpx.AsyncClient, label: str, document: str, variables: Any
    ) -> None:
        # NaN and lone surrogates as a client's encoder writes them (`\ud800`).
        body = json.dumps({"query": document, "variables": variables})
        response = await http.post("/graphql", content=body)
        self.requests += 1
        text = response.text
        if response.status_code >= 500:
            self.http_500 += 1
            self.failures.append(f"{label}: HTTP {response.status_code}: {text[:300]}")
            return
        if LEAKS.search(text):
            self.failures.append(f"{label}: leaks: {text[:300]}")
        if response.status_code == 400:
            self.codes["HTTP 400"] += 1
            return
        self.count(label, response.json().get("errors") or [])

    def count(self, label: str, errors: list[dict[str, Any]]) -> None:
        for error in errors:
            code = (error.get("extensions") or {}).get("code", "(none)")
            self.codes[code] += 1
            if code not in OUR_CODES:
                self.unexpected += 1
                self.failures.append(f"{label}: {code}: {error.get('message')}")

    async def subscribe(
        self, socket: Any, label: str, document: str, variables: Any
    ) -> None:
        """One subscription: its first answer (an error, an event or the end) is
        what the hostile value got; a running one is then stopped."""
        op = f"s{self.requests}"
        payload = {"query": document, "variables": variables}
        await socket.send(
            json.dumps({"id": op, "type": "subscribe", "payload": payload})
        )
        with anyio.fail_after(120):  # a bound on a hang, not a wait for something
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif message.get("id") == op:
                    break
        self.requests += 1
        if LEAKS.search(json.dumps(message)):
            self.failures.append(f"{label}: leaks: {str(message)[:300]}")
        if message["type"] == "error":
            self.count(label, message["payload"])
        elif message["type"] == "next":
            self.count(label, message["payload"].get("errors") or [])
            await socket.send(json.dumps({"id": op, "type": "complete"}))

    async def subscribe_all(self, cases: list[tuple[str, str, dict[str, Any]]]) -> None:
        """Every case over graphql-transport-ws, on as few sockets as the server
        allows: a message it refuses whole closes the socket with 4400, as the
        protocol says, and the next case opens a new one."""
        pending = list(cases)
        while pending:
            async with ws_connect(self.api.url, self.api.keys["admin"]) as sub:
                try:
                    while pending:
                        await self.subscribe(sub.socket, *pending[0])
                        pending.pop(0)
                except websockets.ConnectionClosed as closed:
                    label = pending.pop(0)[0]
                    self.requests += 1
                    code = closed.rcvd.code if closed.rcvd else None
                    self.codes[f"WebSocket close {code}"] += 1
                    if code != 4400:
                        self.failures.append(f"{label}: socket closed with {code}")

    async def run(self, cases: list[tuple[str, str, dict[str, Any]]]) -> None:
        limiter = anyio.CapacityLimiter(CONCURRENCY)
        headers = {
            "X-API-Key": self.api.keys["admin"],
            "Content-Type": "application/json",
        }
        async with httpx.AsyncClient(
            base_url=self.api.url,
            headers=headers,
            timeout=120,
            limits=httpx.Limits(max_connections=CONCURRENCY),
        ) as http:

            async def one(case: tuple[str, str, dict[str, Any]]) -> None:
                async with limiter:
                    await self.send(http, *case)

            async with anyio.create_task_group() as tg:
                for case in cases:
                    tg.start_soon(one, case)


def introspect(api: Api) -> GraphQLSchema:
    response = httpx.post(
        api.url + "/graphql",
        json={"query": get_introspection_query()},
        headers={"X-API-Key": api.keys["admin"]},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return build_client_schema(response.json()["data"])


def valid_values(api: Api) -> dict[str, Any]:
    """Objects the operations can name: an execution, a saved workflow, a key."""
    headers = {"X-API-Key": api.keys["admin"]}

    def data(query: str, variables: dict[str, Any] | None = None) -> Any:
        body = httpx.post(
            api.url + "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=60,
        ).json()
        assert not body.get("errors"), body
        return body["data"]

    execution = data(
        "mutation($g: JSON!) { executeWorkflow(input: {graph: $g}) { id } }",
        {"g": ECHO},
    )["executeWorkflow"]["id"]
    workflow = data(
        'mutation($g: JSON!) { saveWorkflow(input: {name: "fuzz", graph: $g}) { id } }',
        {"g": ECHO},
    )["saveWorkflow"]["id"]
    key = data(
        'mutation { createApiKey(name: "fuzz", role: VIEWER) { apiKey { id } } }'
    )["createApiKey"]["apiKey"]["id"]
    schedule_input = {"name": "fuzz", "cron": "0 8 1 * *", "graph": ECHO}
    schedule = data(
        "mutation($i: CreateScheduleInput!) { createSchedule(input: $i) { id } }",
        {"i": schedule_input},
    )["createSchedule"]["id"]
    return {
        "execution.id": execution,
        "cancelExecution.id": execution,
        "workflow.id": workflow,
        "deleteWorkflow.id": workflow,
        "revokeApiKey.id": key,
        "agent.id": "echo_agent",
        "artifact.id": "fuzz",
        "command": "Tee ALV-laskelma viime kuulta",
        "context": {"referenceDate": "2026-11-24"},
        "dryRun": True,
        "first": 5,
        "hoursBack": 24,
        "name": "fuzz",
        "role": "VIEWER",
        "input": {"graph": ECHO},
        "executeWorkflow.input": {"graph": ECHO},
        "saveWorkflow.input": {"name": "fuzz", "graph": ECHO},
        "SaveWorkflowInput.name": "fuzz",
        "SaveWorkflowInput.graph": ECHO,
        "schedule.id": schedule,
        "pauseSchedule.id": schedule,
        "resumeSchedule.id": schedule,
        "deleteSchedule.id": schedule,
        "createSchedule.input": schedule_input,
        "CreateScheduleInput.name": "fuzz",
        "CreateScheduleInput.cron": "0 8 1 * *",
    }


def test_every_argument_takes_every_hostile_value(api: Api) -> None:
    schema = introspect(api)
    fuzz = Fuzz(api, schema, valid_values(api))
    cases = fuzz.cases()
    operations = {label.split("(")[0] for label, _, _ in cases}
    arguments = {label.split(" <- ")[0] for label, _, _ in cases if "(" in label}
    logged_before = len(api.server.log())
    started = time.monotonic()
    anyio.run(fuzz.run, cases)
    took = time.monotonic() - started
    logged = api.server.log()[logged_before:]
    print(
        f"\nargument fuzz: {len(operations)} operations x {len(arguments)} arguments "
        f"and input fields x {len(HOSTILE)} values = {fuzz.requests} requests in "
        f"{took:.0f} s; HTTP 500: {fuzz.http_500}; unexpected codes: "
        f"{fuzz.unexpected}; codes: {dict(sorted(fuzz.codes.items()))}"
    )
    assert fuzz.requests == len(cases)
    assert fuzz.failures == [], "\n".join(fuzz.failures[:40])
    assert (fuzz.http_500, fuzz.unexpected) == (0, 0)
    assert "Traceback" not in logged, logged[-3000:]


def test_every_subscription_argument_takes_every_hostile_value(api: Api) -> None:
    schema = introspect(api)
    fuzz = Fuzz(api, schema, valid_values(api))
    cases = fuzz.cases(("subscription",))
    arguments = {label.split(" <- ")[0] for label, _, _ in cases}
    logged_before = len(api.server.log())
    anyio.run(fuzz.subscribe_all, cases)
    logged = api.server.log()[logged_before:]
    print(
        f"\nsubscription fuzz: {len(arguments)} arguments x {len(HOSTILE)} values = "
        f"{fuzz.requests} subscriptions; unexpected codes: {fuzz.unexpected}; "
        f"codes: {dict(sorted(fuzz.codes.items()))}"
    )
    assert len(arguments) >= 3  # executionEvents(executionId, afterSeq), metricsUpdates
    assert fuzz.requests == len(cases)
    assert fuzz.failures == [], "\n".join(fuzz.failures[:40])
    assert fuzz.unexpected == 0
    assert "Traceback" not in logged, logged[-3000:]
