"""Relay-style cursor connections (`first`/`after`, `edges { node }`, `pageInfo`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from ...core.records import Page

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class PageInfo:
    """Where a page sits in the list."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    """One item and its cursor."""

    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A page of items."""

    edges: list[Edge[T]]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
        """Build a connection from a store page."""
        edges = [Edge(cursor=cursor, node=convert(item)) for cursor, item in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
