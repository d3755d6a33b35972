"""The repository stands alone: a clone in an empty folder has everything it needs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A path that leaves the clone for the team's sibling folder (named by SIBLING): a
# relative path that goes up into it, or a Path built from the clone's parent.
SIBLING = "sh" + "ared"  # spelled in two so that this guard does not match itself
OUTSIDE = re.compile(
    rf"\.\.[/\\]+{SIBLING}\b"
    rf"|\.parent\s*/\s*[\"']{SIBLING}"
    rf"|parents\[\d\]\.parent\s*/\s*[\"']{SIBLING}"
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_file_reaches_outside_the_clone() -> None:
    offenders = []
    for path in tracked_files():
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [
            f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)
        ]
    assert not offenders, "files outside the repository are referred to:\n" + "\n".join(
        offenders
    )


def test_the_planner_dev_sets_are_in_the_repository() -> None:
    for name in ("planner_dev.jsonl", "planner_compose_dev.jsonl"):
        path = ROOT / "tests" / "data" / name
        assert path.is_file(), f"{path} is missing"
        assert path.read_text(encoding="utf-8").strip()
