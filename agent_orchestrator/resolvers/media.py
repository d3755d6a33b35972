"""The response media type of GraphQL over HTTP.

The GraphQL-over-HTTP specification ("Media Types", "Response") defines
``application/graphql-response+json``: a client that accepts it learns from the status
code whether its document ran. A request error (the document did not parse or
validate, or its variables did not fit, so nothing was executed) is answered 4xx (400)
without a ``data`` entry; a document that ran is answered 200, whatever errors its
fields raised. A client that asks for ``application/json`` (or for anything, or sends
no ``Accept``) keeps the legacy answer: 200 with ``data: null`` and the errors.
"""

from __future__ import annotations

from typing import Final

GRAPHQL_RESPONSE_JSON: Final = "application/graphql-response+json"
JSON: Final = "application/json"


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 1.0  # a malformed weight is ignored (RFC 9110 §12.4.2)
    return 1.0


def response_media_type(accept: str) -> str:
    """The media type to answer a GraphQL request with, given its ``Accept`` header.

    ``application/graphql-response+json`` when the client names it with a weight
    above zero and at least the weight it gives ``application/json``; otherwise
    ``application/json`` (also for ``*/*`` and a missing header, as the spec asks).

    Example::

        >>> response_media_type("application/graphql-response+json, application/json")
        'application/graphql-response+json'
        >>> response_media_type("application/graphql-response+json;q=0.9, */*")
        'application/graphql-response+json'
        >>> response_media_type("*/*")
        'application/json'
    """
    if "graphql-response" not in accept:  # the common case: no parsing needed
        return JSON
    weights = {GRAPHQL_RESPONSE_JSON: 0.0, JSON: 0.0}
    for part in accept.split(","):
        media, _, params = part.partition(";")
        media = media.strip().lower()
        if media in weights:
            weights[media] = max(weights[media], _quality(params))
    graphql = weights[GRAPHQL_RESPONSE_JSON]
    return GRAPHQL_RESPONSE_JSON if graphql > 0 and graphql >= weights[JSON] else JSON
