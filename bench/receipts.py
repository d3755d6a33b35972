"""Receipt reading benchmark: photographed receipts (`tests.support.photos`: scans,
photos cropped to the paper, phone photos of the slip on a table) read by the real
`ocr_agent` and `receipt_parser_agent`; time per receipt and accuracy per kind.

    python bench/receipts.py --count 20 --workers 1

Prints one JSON line per kind of image: ``{"kind", "receipts", "fully_right",
"vat_right", "invented", "unflagged", "flagged", "median_s", "p95_s",
"median_cpu_s", "goal_met"}`` (CPU: this process and Tesseract);
the goal is a median under 2 s for a phone photo. ``--code DIR`` reads with the
``agent_orchestrator`` package found in DIR instead (e.g. an export of an older commit),
to compare before and after on the same images.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20, help="receipts per kind")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--workers", type=int, default=1, help="processes (1 or 2)")
    parser.add_argument("--kinds", default="scan,cropped,table")
    parser.add_argument("--images", type=Path, help="keep the images here")
    parser.add_argument("--code", type=Path, help="read with the package in DIR")
    parser.add_argument("--verbose", action="store_true", help="list what failed")
    args = parser.parse_args()
    if args.code is not None:
        sys.path.insert(0, str(args.code.resolve()))

    from tests.support.receipt_reading import describe, figures, make_cases, read_all

    kinds = tuple(args.kinds.split(","))
    with tempfile.TemporaryDirectory(prefix="receipts-bench-") as scratch:
        area = args.images or Path(scratch)
        cases = make_cases(area, args.count, kinds, args.seed)
        verdicts = read_all(area, cases, workers=args.workers)
    for kind in kinds:
        row = dataclasses.asdict(figures(verdicts, kind))
        row = {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}
        row["goal_met"] = kind != "table" or row["median_s"] < 2.0
        print(json.dumps(row))
    if args.verbose:
        print(describe(verdicts), file=sys.stderr)


if __name__ == "__main__":
    main()
