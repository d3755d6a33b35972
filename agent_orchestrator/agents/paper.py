"""Finding the document in a photo before Tesseract reads it (OpenCV).

A phone photo of a receipt on a table holds the table too: Tesseract then drops the
price column and whole regions. So: find the paper (the largest quadrilateral among
the bright blobs and the long edge curves of a downscaled copy, each side then fitted
to the sheet's edge, which a shadow does not move: `agents.paper_edges`), straighten
it with a perspective transform, scale it so that letters are tall enough, and
binarise it with an adaptive (local) threshold, which copes with light falling off
across the slip and with soft shadows. A scan or a photo already cropped to the paper
has no such outline and is only scaled and binarised.

OpenCV (``cv2``) and numpy are imported when an image is prepared, not at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np  # noqa: TC004 (in a dataclass field's type, not read)
    from numpy.typing import NDArray  # noqa: TC004 (likewise)
    from PIL.Image import Image  # noqa: TC004 (a dataclass field's type, not read)

#: The side the outline search works on: enough for a sheet's edges, and fast.
_SEARCH_SIDE = 700
#: A found sheet must cover this share of the photo (smaller: a label or a logo) and
#: leave some of it (larger: the whole frame, i.e. a scan).
_MIN_AREA, _MAX_AREA = 0.08, 0.92
#: Straightened paper is scaled to about this width: a receipt's 32 to 48 characters
#: then come out 20 to 30 pixels wide, as Tesseract likes them.
_TARGET_WIDTH = 1000
_MAX_SIDE = 4200


@dataclass(frozen=True, slots=True)
class Prepared:
    """An image ready for Tesseract and how it was made."""

    image: Image
    found_paper: bool  # an outline was found and the paper straightened


@dataclass(frozen=True, slots=True)
class Page:
    """The page in grey, straightened when its outline was found, and scaled: what
    each binarisation starts from (found once, binarised once or twice)."""

    gray: NDArray[np.uint8]
    found_paper: bool


def prepare(image: Image, *, variant: int = 0) -> Prepared:
    """The page as a clean black-on-white image for Tesseract (`page`, then
    `binarise`)."""
    return binarise(page(image), variant=variant)


def page(image: Image) -> Page:
    """The paper found in `image`, straightened and scaled, in grey."""
    import numpy as np

    gray = np.asarray(image.convert("L"))
    quad = find_paper(gray)
    if quad is not None:
        gray = straighten(gray, quad)
    return Page(_scale(gray, straightened=quad is not None), quad is not None)


def binarise(found: Page, *, variant: int = 0) -> Prepared:
    """`found` as black on white.

    `variant` 0 binarises with a Gaussian adaptive threshold; 1 evens the light out
    (divides by a blurred copy) and uses Otsu's global threshold: a second opinion
    for a reading whose figures do not agree.
    """
    import cv2
    import numpy as np
    from PIL import Image as Images

    gray = found.gray
    if variant == 0:
        if not found.found_paper and not _uneven(gray):
            # An evenly lit scan: Tesseract's own global threshold does best, and a
            # local one would turn the scanner's specks into letters.
            return Prepared(Images.fromarray(gray), found_paper=False)
        block = max(15, (gray.shape[1] // 30) | 1)
        binary = cv2.adaptiveThreshold(
            cv2.medianBlur(gray, 3),
            255,
            cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
            cv2.THRESH_BINARY,
            block,
            15,
        )
    else:
        background = cv2.medianBlur(gray, 31 if min(gray.shape) > 62 else 3)
        even = cv2.divide(gray, np.maximum(background, 1), scale=255)
        _, binary = cv2.threshold(even, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return Prepared(Images.fromarray(binary), found.found_paper)


def word_image(found: Page, box: tuple[int, int, int, int]) -> Image:
    """The place of one word (`box`: left, top, width, height in `found`'s pixels)
    cut from the grey page with a little room round it, on a border of the paper's
    own grey: what Tesseract reads as one line for a second look at the word (its
    own threshold, worked out on so small a piece, is a local one)."""
    import cv2
    import numpy as np
    from PIL import Image as Images

    left, top, width, height = box
    rows, columns = found.gray.shape
    across, up = height // 2, (2 * height) // 5
    piece = found.gray[
        max(0, top - up) : min(rows, top + height + up),
        max(0, left - across) : min(columns, left + width + across),
    ]
    paper = int(np.percentile(piece, 90)) if piece.size else 255
    framed = cv2.copyMakeBorder(
        piece, 12, 12, 12, 12, cv2.BORDER_CONSTANT, value=(paper,)
    )
    return Images.fromarray(framed)


def _uneven(gray: NDArray[np.uint8]) -> bool:
    """Whether the paper's brightness varies across the image (light falling off,
    a shadow): the background, with the print blurred away, spans 40+ grey levels."""
    import cv2
    import numpy as np

    small = cv2.resize(gray, (64, 64), interpolation=cv2.INTER_AREA)
    background = cv2.dilate(small, np.ones((5, 5), np.uint8))
    low, high = np.percentile(background, (5, 95))
    return bool(high - low >= 40)


def find_paper(gray: NDArray[np.uint8]) -> NDArray[np.float32] | None:
    """The four corners of the sheet (top-left, top-right, bottom-right,
    bottom-left, in `gray`'s pixels), or None when no sheet stands out.

    Rough outlines come from two places: the bright blob the image's Otsu threshold
    separates from the table (where a shadow darkens part of the sheet below that
    threshold, a lower one, just above the brightest of the table along the frame,
    takes the shadowed part in too), and the long edge curves of the image's
    logarithm, where a shadow dims paper and table alike and the sheet's edge stays
    (`agents.paper_edges`; that finds a sheet no threshold separates, under light
    that makes the table's bright side brighter than the paper's shadowed one).
    Each side of a rough outline is then moved onto the sheet's edge, so a shadow
    that made the blob lose a corner does not cut it off; of the outlines that pass
    as a sheet, the largest is taken.
    """
    import cv2
    import numpy as np

    from .paper_edges import fit_sides, log_light, outlines

    height, width = gray.shape
    factor = _SEARCH_SIDE / max(height, width)
    resized = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    small: NDArray[np.uint8] = cv2.GaussianBlur(resized, (5, 5), 0).astype(np.uint8)
    light = log_light(small)
    otsu, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    edge = 12
    frame = np.concatenate(
        [
            small[:edge].ravel(),
            small[-edge:].ravel(),
            small[:, :edge].ravel(),
            small[:, -edge:].ravel(),
        ]
    )
    thresholds = [float(otsu)]
    lower = float(np.percentile(frame, 99)) + 8
    if lower < otsu - 5:
        thresholds.append(lower)
    found = []
    for threshold in thresholds:
        sheet = _sheet(small, threshold)
        if sheet is not None:
            # A blob's outline stands even where no side finds its edge.
            fitted = fit_sides(light, sheet, required=0)
            found.append(sheet if fitted is None else fitted)
    for rough in outlines(light, _MIN_AREA):
        # An edge curve's outline stands only when all four sides found theirs.
        fitted = fit_sides(light, rough, required=4)
        if fitted is not None:
            found.append(fitted)
    found = [corners for corners in found if _passes(small, corners)]
    if not found:
        return None
    best = max(found, key=lambda corners: float(cv2.contourArea(corners)))
    # A search pixel's centre lies half a pixel in from its corner at either scale.
    return (best + np.float32(0.5)) / np.float32(factor) - np.float32(0.5)


def _passes(small: NDArray[np.uint8], corners: NDArray[np.float32]) -> bool:
    """Whether four corners can outline a sheet lying on a table: a share of the
    photo between `_MIN_AREA` and `_MAX_AREA`, inside the frame but for one side."""
    import cv2

    height, width = small.shape
    area = float(cv2.contourArea(corners)) / (height * width)
    if not _MIN_AREA <= area <= _MAX_AREA:
        return False
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    edge = 3
    touching = (
        int(x0 <= edge)
        + int(y0 <= edge)
        + int(x1 >= width - edge)
        + int(y1 >= height - edge)
    )
    return touching < 2


def _sheet(small: NDArray[np.uint8], threshold: float) -> NDArray[np.float32] | None:
    """The four corners (in `small`'s pixels) of the blob brighter than `threshold`
    that passes as a sheet, or None."""
    import cv2
    import numpy as np

    from .paper_edges import quadrilateral

    _, bright = cv2.threshold(small, threshold, 255, cv2.THRESH_BINARY)
    # Close the printed lines' gaps so the sheet is one blob; open away specks.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    bright = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, kernel)
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, kernel)
    contours, _ = cv2.findContours(bright, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    sheet = max(contours, key=cv2.contourArea)
    blob = cv2.contourArea(sheet)
    area = blob / (small.shape[0] * small.shape[1])
    if not _MIN_AREA <= area <= _MAX_AREA:
        return None
    # A sheet on a table lies inside the frame: a bright patch running along two
    # edges is the lit part of a photo already cropped to the paper.
    x, y, w, h = cv2.boundingRect(sheet)
    edge = 3
    touching = (
        (x <= edge)
        + (y <= edge)
        + (x + w >= small.shape[1] - edge)
        + (y + h >= small.shape[0] - edge)
    )
    if touching >= 2:
        return None
    # The sheet must be clearly brighter than what surrounds it.
    mask = np.zeros(small.shape, np.uint8)
    cv2.drawContours(mask, [sheet], -1, 255, -1)
    inside = cv2.mean(small, mask=mask)[0]
    outside = cv2.mean(small, mask=cv2.bitwise_not(mask))[0]
    if inside - outside < 40:
        return None
    corners = quadrilateral(cv2.convexHull(sheet))
    # Four corners that leave out much of the blob, or take in much that is not in
    # it, do not outline a sheet.
    quad_area = cv2.contourArea(corners)
    if not 0.85 <= blob / max(quad_area, 1.0) <= 1.1:
        return None
    return corners


def straighten(gray: NDArray[np.uint8], quad: NDArray[np.float32]) -> NDArray[np.uint8]:
    """The sheet inside `quad`, seen from straight above (perspective corrected)."""
    import cv2
    import numpy as np

    tl, tr, br, bl = quad
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    # Trim a sliver all round: the sheet's edge and the table's shadow on it.
    inset = max(2, int(0.006 * min(width, height)))
    target = np.array(
        [
            [-inset, -inset],
            [width + inset, -inset],
            [width + inset, height + inset],
            [-inset, height + inset],
        ],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(quad, target)
    out = cv2.warpPerspective(
        gray,
        matrix,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out.astype(np.uint8)


def _scale(gray: NDArray[np.uint8], *, straightened: bool) -> NDArray[np.uint8]:
    """A straightened slip scaled to about `_TARGET_WIDTH`; a small scan doubled
    (Tesseract wants letters 20+ pixels high); anything else left as it is."""
    import cv2
    import numpy as np

    height, width = gray.shape
    if straightened:
        factor = _TARGET_WIDTH / width
        if 0.85 <= factor <= 1.2:
            return gray
    elif max(height, width) < 800:
        factor = 2.0
    else:
        return gray
    factor = min(factor, _MAX_SIDE / max(height, width))
    method = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    out = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=method)
    return out.astype(np.uint8)
