"""The checks of graphql-cop (the GraphQL security auditor), made with httpx.

graphql-cop is published only as a Git repository (its name on PyPI is an empty
placeholder), so the suite cannot install it from a package registry; these are its
probes, each with the request it sends, the answer it counts as a finding, and the
severity it gives it. `audit` runs them all against a server's ``/graphql``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH")
IDE_MARKERS = (
    "graphiql.min.css",
    "GraphQL Playground",
    "GraphiQL",
    "graphql-playground",
)
IDE_PATHS = ("/graphiql", "/playground", "/console", "/graphql")


@dataclass(frozen=True, slots=True)
class Finding:
    """One check that found something."""

    title: str
    severity: str


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _data(response: httpx.Response, field: str) -> Any:
    body = _json(response)
    data = body.get("data") if isinstance(body, dict) else None
    return data.get(field) if isinstance(data, dict) else None


def _errors(response: httpx.Response) -> list[Any]:
    body = _json(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    return errors if isinstance(errors, list) else []


class _Probe:
    def __init__(self, http: httpx.Client, url: str) -> None:
        self.http = http
        self.url = url

    def post(self, query: str) -> httpx.Response:
        return self.http.post(self.url, json={"query": query})

    def field_suggestions(self) -> bool:
        errors = _errors(self.post("query cop { __schema { directive } }"))
        return bool(errors) and "Did you mean" in str(errors[0].get("message", ""))

    def introspection(self) -> bool:
        response = self.post(
            "query cop { __schema { types { name fields { name } } } }"
        )
        return bool((_data(response, "__schema") or {}).get("types"))

    def graphql_ide(self) -> bool:
        base = self.url.rsplit("/", 1)[0]
        for path in IDE_PATHS:
            response = self.http.get(base + path)
            if any(marker in response.text for marker in IDE_MARKERS):
                return True
        return False

    def get_queries(self) -> bool:
        response = self.http.get(self.url, params={"query": "query cop {__typename}"})
        return bool(_data(response, "__typename"))

    def get_mutations(self) -> bool:
        response = self.http.get(
            self.url, params={"query": "mutation cop {__typename}"}
        )
        return bool(_data(response, "__typename"))

    def post_url_encoded(self) -> bool:
        response = self.http.post(self.url, params={"query": "query cop {__typename}"})
        return bool(_data(response, "__typename"))

    def alias_overloading(self) -> bool:
        aliases = " ".join(f"alias{i}:__typename" for i in range(101))
        return bool(_data(self.post("query cop { " + aliases + " }"), "alias100"))

    def batching(self) -> bool:
        body = [{"query": "query cop { __typename }"}] * 10
        answer = _json(self.http.post(self.url, json=body))
        return isinstance(answer, list) and len(answer) >= 10

    def field_duplication(self) -> bool:
        query = "query cop { " + "__typename \n" * 500 + "} "
        return bool(_data(self.post(query), "__typename"))

    def directive_overloading(self) -> bool:
        query = "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"
        return len(_errors(self.post(query))) == 10

    def circular_introspection(self) -> bool:
        query = (
            "query cop { __schema { types { fields { type { fields { type { fields "
            "{ type { fields { type { name } } } } } } } } } } }"
        )
        types = (_data(self.post(query), "__schema") or {}).get("types") or []
        return len(types) > 25

    def tracing(self) -> bool:
        response = self.post("query cop { __typename }")
        text = response.text.lower()
        return "stacktrace" in text or '"tracing"' in text

    def unhandled_errors(self) -> bool:
        errors = _errors(self.post("qwerty cop { abc }"))
        return any("exception" in (e.get("extensions") or {}) for e in errors)


CHECKS: dict[str, tuple[str, Callable[[_Probe], bool]]] = {
    "Field Suggestions": ("LOW", _Probe.field_suggestions),
    "Introspection": ("HIGH", _Probe.introspection),
    "GraphQL IDE": ("LOW", _Probe.graphql_ide),
    "GET Method Query Support": ("MEDIUM", _Probe.get_queries),
    "Mutation is allowed over GET (possible CSRF)": ("MEDIUM", _Probe.get_mutations),
    "POST based url-encoded query (possible CSRF)": (
        "MEDIUM",
        _Probe.post_url_encoded,
    ),
    "Alias Overloading": ("HIGH", _Probe.alias_overloading),
    "Array-based Query Batching": ("HIGH", _Probe.batching),
    "Field Duplication": ("HIGH", _Probe.field_duplication),
    "Directive Overloading": ("HIGH", _Probe.directive_overloading),
    "Introspection-based Circular Query": ("HIGH", _Probe.circular_introspection),
    "Trace Mode": ("INFO", _Probe.tracing),
    "Unhandled Errors Detection": ("INFO", _Probe.unhandled_errors),
}


def audit(base_url: str, key: str) -> list[Finding]:
    """Every check that finds something at ``base_url``/graphql, with the key sent."""
    with httpx.Client(headers={"X-API-Key": key}, timeout=60) as http:
        probe = _Probe(http, base_url + "/graphql")
        return [
            Finding(title, severity)
            for title, (severity, check) in CHECKS.items()
            if check(probe)
        ]


def above(findings: list[Finding], severity: str) -> list[Finding]:
    """The findings more severe than ``severity``."""
    rank = SEVERITIES.index(severity)
    return [f for f in findings if SEVERITIES.index(f.severity) > rank]
