"""The execution view's layered layout (``static/execution/layout.js``), run in a real
headless Chromium: layers follow the edges, the order within a layer avoids crossings,
boxes keep their sizes and gaps, long edges go around the boxes between, and a chain
stands straight."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agent_orchestrator.web.graphiql import STATIC_DIR, STATIC_PREFIX
from tests.web.browser import Traffic, open_page, serve_in_thread

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from playwright.sync_api import Page
    from starlette.requests import Request

Box = dict[str, float]
# The layout's defaults (layout.js DEFAULTS) that the checks below rely on.
NODE_GAP = 22
RANK_GAP = 44

_LAYOUT = """([nodes, edges, options]) => {
  const out = window.executionLayout.layered(nodes, edges, options || {});
  return {width: out.width, height: out.height, crossings: out.crossings,
          nodes: Object.fromEntries(out.nodes), edges: out.edges};
}"""


async def _blank(request: Request) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="fi"><head><meta charset="utf-8">'
        f'<script src="{STATIC_PREFIX}/execution/layout.js"></script></head>'
        "<body></body></html>"
    )


@pytest.fixture(scope="module")
def layout_page() -> Iterator[tuple[Page, Traffic]]:
    app = Starlette(
        routes=[
            Route("/", _blank),
            Mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR)),
        ]
    )
    traffic = Traffic()
    with serve_in_thread(app) as url, open_page(traffic) as page:
        page.goto(url + "/")
        page.wait_for_function("() => window.executionLayout !== undefined")
        yield page, traffic
    traffic.assert_clean()


def layout(
    page: Page,
    nodes: Sequence[tuple[str, float, float] | str],
    edges: list[tuple[str, str]],
    **options: Any,
) -> dict[str, Any]:
    sized = [
        {"id": n, "width": 100, "height": 40}
        if isinstance(n, str)
        else {"id": n[0], "width": n[1], "height": n[2]}
        for n in nodes
    ]
    found: dict[str, Any] = page.evaluate(
        _LAYOUT, [sized, [{"from": a, "to": b} for a, b in edges], options]
    )
    return found


def centre(box: Box) -> float:
    return box["x"] + box["width"] / 2


def assert_no_overlap(boxes: dict[str, Box]) -> None:
    by_layer: dict[float, list[Box]] = {}
    for b in boxes.values():
        by_layer.setdefault(b["layer"], []).append(b)
    for row in by_layer.values():
        row.sort(key=lambda b: b["x"])
        for left, right in zip(row, row[1:], strict=False):
            assert left["x"] + left["width"] + NODE_GAP <= right["x"] + 1e-6, row


def test_every_edge_points_to_a_later_layer(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("a", "e")]
    out = layout(page, ["e", "d", "c", "b", "a"], edges)
    boxes = out["nodes"]

    for a, b in edges:
        assert boxes[a]["layer"] < boxes[b]["layer"], (a, b)
        assert boxes[a]["y"] + boxes[a]["height"] + RANK_GAP <= boxes[b]["y"] + 1e-6
    assert [boxes[n]["layer"] for n in "abcde"] == [0, 1, 1, 2, 3]
    assert_no_overlap(boxes)


def test_a_source_stands_just_above_the_step_that_needs_it(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    out = layout(page, ["a", "b", "c", "late"], [("a", "b"), ("b", "c"), ("late", "c")])

    assert out["nodes"]["late"]["layer"] == 1  # not 0, beside `a`
    assert out["nodes"]["c"]["layer"] == 2


def test_the_order_within_layers_removes_crossings(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    # In the given order, both pairs cross: a-d, b-c and c-f, d-e.
    nodes = ["a", "b", "c", "d", "e", "f"]
    edges = [("a", "d"), ("b", "c"), ("c", "f"), ("d", "e")]
    out = layout(page, nodes, edges)
    boxes = out["nodes"]

    assert out["crossings"] == 0
    for (a, b), (c, d) in [(edges[0], edges[1]), (edges[2], edges[3])]:
        top = centre(boxes[a]) - centre(boxes[c])
        bottom = centre(boxes[b]) - centre(boxes[d])
        assert top * bottom > 0, boxes


def test_without_sweeps_the_crossings_stay(
    layout_page: tuple[Page, Traffic],
) -> None:
    """The check above can fail: with the ordering phase off, they cross."""
    page, _ = layout_page
    nodes = ["a", "b", "c", "d", "e", "f"]
    edges = [("a", "d"), ("b", "c"), ("c", "f"), ("d", "e")]

    assert layout(page, nodes, edges, sweeps=0)["crossings"] == 2


def test_a_chain_stands_straight_and_a_child_sits_under_its_parents(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    chain = layout(page, ["a", "b", "c"], [("a", "b"), ("b", "c")])["nodes"]
    assert centre(chain["a"]) == centre(chain["b"]) == centre(chain["c"])

    join = layout(page, ["l", "r", "j"], [("l", "j"), ("r", "j")])["nodes"]
    assert centre(join["j"]) == pytest.approx(
        (centre(join["l"]) + centre(join["r"])) / 2
    )


def test_boxes_keep_their_sizes_and_gaps(layout_page: tuple[Page, Traffic]) -> None:
    page, _ = layout_page
    nodes = [("top", 200, 58), ("wide", 420, 160), ("small", 90, 30), ("end", 200, 58)]
    edges = [("top", "wide"), ("top", "small"), ("wide", "end"), ("small", "end")]
    out = layout(page, nodes, edges)
    boxes = out["nodes"]

    for name, width, height in nodes:
        assert (boxes[name]["width"], boxes[name]["height"]) == (width, height)
    assert_no_overlap(boxes)
    # The layer's height is its tallest box: `end` starts below `wide`.
    assert boxes["end"]["y"] >= boxes["wide"]["y"] + 160 + RANK_GAP - 1e-6
    assert all(
        b["x"] >= 0 and b["x"] + b["width"] <= out["width"] for b in boxes.values()
    )
    assert all(b["y"] + b["height"] <= out["height"] for b in boxes.values())


def test_a_long_edge_goes_around_the_boxes_between(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    out = layout(page, ["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    boxes = out["nodes"]
    long = next(e for e in out["edges"] if (e["from"], e["to"]) == ("a", "c"))
    b = boxes["b"]

    assert len(long["points"]) == 4  # out of a, past b's layer in two, into c
    bend = long["points"][1:3]
    assert all(x <= b["x"] or x >= b["x"] + b["width"] for x, _ in bend), (bend, b)
    assert long["points"][0][1] == boxes["a"]["y"] + boxes["a"]["height"]
    assert long["points"][-1][1] == boxes["c"]["y"]


def test_a_cycle_is_laid_out_without_hanging(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    out = layout(page, ["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])

    assert set(out["nodes"]) == {"a", "b", "c"}
    assert_no_overlap(out["nodes"])


def test_edges_to_unknown_nodes_and_loops_are_left_out(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    out = layout(page, ["a", "b"], [("a", "b"), ("a", "a"), ("ghost", "b"), ("a", "b")])

    assert [(e["from"], e["to"]) for e in out["edges"]] == [("a", "b")]


def test_least_squares_placement_keeps_the_order(
    layout_page: tuple[Page, Traffic],
) -> None:
    page, _ = layout_page
    fitted = page.evaluate("() => window.executionLayout.isotonic([3, 1, 2, 5, 4])")

    assert fitted == [2, 2, 2, 4.5, 4.5]
