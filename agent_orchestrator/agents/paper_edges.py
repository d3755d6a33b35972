"""The sheet's outline from its edges, where a shadow does not move it (`agents.paper`).

A shadow or light falling off multiplies the paper and the table alike, so in the
logarithm of the brightness it shifts both by the same amount and the step at the
sheet's edge keeps its height, while the shadow's own soft border is a slow slope.
`outlines` proposes rough quadrilaterals from a Canny edge map of that logarithm (the
sheet's edge is one long connected curve; the print makes small ones inside it), and
`fit_sides` moves each side of a rough quadrilateral (from there or from the
brightness threshold) onto the edge itself: along the side, it looks outward for the
outermost place where paper gives way to something darker and stays darker, and fits
a line through those places (RANSAC, so the print, a corner's shadow or another
object make outliers, not a bend). The corners are where the fitted sides meet.

All coordinates are in the search image's pixels, corners in the order top-left,
top-right, bottom-right, bottom-left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from cv2.typing import MatLike
    from numpy.typing import NDArray

#: How much brighter (as a log ratio, about 1.2 times) the paper just inside an edge
#: must be than everything just outside it.
_STEP = 0.18
#: Places looked at along each side, and the windows (pixels) on either side of one.
_SAMPLES = 40
_WINDOW = 7
_GAP = 2
#: A fitted side passes within this many pixels of the edge places it keeps, and
#: keeps at least this share of the places looked at.
_TOLERANCE = 1.5
_MIN_SUPPORT = 0.4


def log_light(small: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The brightness's logarithm, in which a shadow is an offset, not a factor."""
    import numpy as np

    return np.log1p(small.astype(np.float32))


def outlines(light: NDArray[np.float32], min_area: float) -> list[NDArray[np.float32]]:
    """Rough quadrilaterals around the long edge curves of `light` (at most two,
    largest first), each the hull of one curve reduced to four corners."""
    import cv2
    import numpy as np

    # About 46 grey levels per unit of log: the step of white paper on a light
    # table (a ratio of 1.5) makes 19 levels, the table's grain under 3.
    scaled = np.clip(light * 46, 0, 255).astype(np.uint8)
    edges = cv2.Canny(scaled, 20, 40)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(edges, connectivity=8)
    frame = light.shape[0] * light.shape[1]
    boxes = [
        (int(stats[i, cv2.CC_STAT_WIDTH]) * int(stats[i, cv2.CC_STAT_HEIGHT]), i)
        for i in range(1, count)
    ]
    found = []
    for box, label in sorted(boxes, reverse=True)[:2]:
        if box < min_area * frame:
            break
        ys, xs = np.nonzero(labels == label)
        points = np.column_stack([xs, ys]).astype(np.int32)
        found.append(quadrilateral(cv2.convexHull(points)))
    return found


def quadrilateral(hull: MatLike) -> NDArray[np.float32]:
    """Four corners that outline a convex hull: its polygon simplified until four
    remain, else its smallest enclosing rectangle."""
    import cv2
    import numpy as np

    perimeter = cv2.arcLength(hull, True)
    for share in (0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, share * perimeter, True)
        if len(approx) == 4:
            return order(approx.reshape(4, 2).astype(np.float32))
    return order(cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32))


def order(points: NDArray[np.float32]) -> NDArray[np.float32]:
    """Four corners clockwise on screen (by their angle about the centre), starting
    at the top-left one (the smallest x + y)."""
    import numpy as np

    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    ring = points[np.argsort(angles)]
    start = int(np.argmin(ring.sum(axis=1)))
    return np.roll(ring, -start, axis=0).astype(np.float32)


def fit_sides(
    light: NDArray[np.float32], corners: NDArray[np.float32], *, required: int
) -> NDArray[np.float32] | None:
    """`corners` with each side moved onto the sheet's edge where one is found near
    it; a side without one stays. None when fewer than `required` sides found their
    edge, or when the fitted sides do not make a convex quadrilateral near the
    first."""
    import cv2
    import numpy as np

    sides = []
    found = 0
    lengths = [
        float(np.linalg.norm(corners[(i + 1) % 4] - corners[i])) for i in range(4)
    ]
    reach = max(8, int(0.12 * min(lengths)))
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        line = _edge_line(light, a, b, reach)
        if line is None:
            sides.append((a, b - a))
        else:
            sides.append(line)
            found += 1
    if found < required:
        return None
    fitted = []
    for i in range(4):
        corner = _meet(sides[i - 1], sides[i])
        if corner is None:
            return None
        fitted.append(corner)
    out = np.array(fitted, dtype=np.float32)
    if not cv2.isContourConvex(out.reshape(-1, 1, 2)):
        return None
    # Each corner stays within the distance a side may move, and a little more.
    if np.max(np.linalg.norm(out - corners, axis=1)) > 3 * reach:
        return None
    return out


def _edge_line(
    light: NDArray[np.float32],
    a: NDArray[np.float32],
    b: NDArray[np.float32],
    reach: int,
) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
    """The line (a point and a direction) of the sheet's edge along the side from
    `a` to `b`, looked for within `reach` pixels of it, or None."""
    import cv2
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    length = float(np.linalg.norm(b - a))
    if length < 20:
        return None
    along = (b - a) / length
    # Clockwise on screen (y down): the outside is to the left of the direction.
    outward = np.array([along[1], -along[0]], dtype=np.float32)
    margin = _GAP + _WINDOW
    offsets = np.arange(-reach - margin, reach + margin + 1, dtype=np.float32)
    places = a + np.linspace(0.08, 0.92, _SAMPLES, dtype=np.float32)[:, None] * (b - a)
    xs = places[:, None, 0] + offsets[None, :] * outward[0]
    ys = places[:, None, 1] + offsets[None, :] * outward[1]
    height, width = light.shape
    inside = (
        (xs.min(axis=1) >= 0)
        & (ys.min(axis=1) >= 0)
        & (xs.max(axis=1) <= width - 1)
        & (ys.max(axis=1) <= height - 1)
    )
    profiles = cv2.remap(
        light, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR
    )
    windows = sliding_window_view(profiles, _WINDOW, axis=1)
    # For the place at offset s: the paper's level just inside it (the median, so
    # that print does not pull it down) against the brightest just outside it.
    span = 2 * reach + 1
    # Windows of the place at column j: [j - GAP - WINDOW + 1, j - GAP] inside and
    # [j + GAP, j + GAP + WINDOW - 1] outside; column j is offset j - reach - margin.
    paper = np.median(windows[:, 1 : 1 + span], axis=2)
    beyond = windows[:, 2 * _GAP + _WINDOW : 2 * _GAP + _WINDOW + span].max(axis=2)
    step = paper - beyond
    # The profile's slope at each place (half the difference of its neighbours).
    columns = np.arange(span) + margin
    slopes = (profiles[:, columns + 1] - profiles[:, columns - 1]) / 2
    points = []
    for k in np.flatnonzero(inside):
        strong = np.flatnonzero(step[k] >= _STEP)
        if strong.size == 0:
            continue
        # The outermost run of strong places (paper never lies outside the edge),
        # and in it where the brightness falls fastest: the edge's middle.
        last = int(strong[-1])
        first = last
        while first > 0 and step[k, first - 1] >= _STEP:
            first -= 1
        fall = slopes[k, first : last + 1]
        best = int(np.argmin(fall))
        if 0 < best < len(fall) - 1:
            best_at = best + _vertex(*(float(v) for v in fall[best - 1 : best + 2]))
        else:
            best_at = float(best)
        points.append(places[k] + (first + best_at - reach) * outward)
    if len(points) < _MIN_SUPPORT * _SAMPLES:
        return None
    return _robust_line(np.array(points, dtype=np.float32))


def _vertex(before: float, here: float, after: float) -> float:
    """Where the parabola through three evenly spaced values peaks, as an offset
    from the middle one (held between -0.5 and 0.5)."""
    curve = before - 2 * here + after
    if curve == 0:
        return 0.0
    return max(-0.5, min(0.5, (before - after) / (2 * curve)))


def _robust_line(
    points: NDArray[np.float32],
) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
    """The line through most of `points` (every pair tried, RANSAC-like), refitted
    to the points it passes near; None when too few do."""
    import cv2
    import numpy as np

    first, second = np.triu_indices(len(points), k=1)
    directions = points[second] - points[first]
    norms = np.linalg.norm(directions, axis=1)
    keep = norms > 1
    first, second, directions = first[keep], second[keep], directions[keep]
    normals = (
        np.stack([-directions[:, 1], directions[:, 0]], axis=1) / norms[keep, None]
    )
    relative = points[None, :, :] - points[first][:, None, :]
    distances = np.abs(np.einsum("pnd,pd->pn", relative, normals))
    counts = (distances <= _TOLERANCE).sum(axis=1)
    if counts.size == 0:
        return None
    best = int(np.argmax(counts))
    if counts[best] < _MIN_SUPPORT * _SAMPLES:
        return None
    kept = points[distances[best] <= _TOLERANCE]
    vx, vy, x0, y0 = cv2.fitLine(kept, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    return (
        np.array([x0, y0], dtype=np.float32),
        np.array([vx, vy], dtype=np.float32),
    )


def _meet(
    first: tuple[NDArray[np.float32], NDArray[np.float32]],
    second: tuple[NDArray[np.float32], NDArray[np.float32]],
) -> NDArray[np.float32] | None:
    """Where two lines (a point and a direction each) cross; None when they are
    nearly parallel."""
    import numpy as np

    (p, d), (q, e) = first, second
    cross = float(d[0] * e[1] - d[1] * e[0])
    if abs(cross) < 1e-3 * float(np.linalg.norm(d) * np.linalg.norm(e)):
        return None
    t = float((q[0] - p[0]) * e[1] - (q[1] - p[1]) * e[0]) / cross
    return (p + t * d).astype(np.float32)
