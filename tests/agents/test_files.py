"""`files_agent` lists the tenant's files in a folder by pattern and dates, as names
`ocr_agent` takes, and never anything outside the tenant's area."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

import pytest

from agent_orchestrator.agents.files import FilesInput, list_files
from agent_orchestrator.agents.tenant_files import FileRefused, resolve_file

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def area(tmp_path: Path) -> Path:
    root = tmp_path / "files"
    month = root / "t1" / "kuitit" / "2026-10"
    month.mkdir(parents=True)
    for name in ("b.jpg", "a.jpg", "c.pdf"):
        (month / name).write_bytes(b"x")
    (month / "sub").mkdir()
    (month / "sub" / "d.jpg").write_bytes(b"x")
    old = dt.datetime(2026, 9, 15, 12, tzinfo=dt.UTC).timestamp()
    os.utime(month / "b.jpg", (old, old))
    other = root / "t2"
    other.mkdir()
    (other / "secret.jpg").write_bytes(b"x")
    (month / "leak.jpg").symlink_to(other / "secret.jpg")
    return root


def listing(area: Path, **kwargs: object) -> list[str]:
    return list_files(area, "t1", FilesInput.model_validate(kwargs))


def test_lists_sorted_names_usable_as_ocr_files(area: Path) -> None:
    names = listing(area, folder="kuitit/2026-10", pattern="*.jpg")
    assert names == ["kuitit/2026-10/a.jpg", "kuitit/2026-10/b.jpg"]
    for name in names:
        assert resolve_file(area, "t1", name).is_file()
    assert listing(area, folder="kuitit/2026-10", pattern="**/*.jpg") == [
        "kuitit/2026-10/a.jpg",
        "kuitit/2026-10/b.jpg",
        "kuitit/2026-10/sub/d.jpg",
    ]


def test_modification_dates_filter_by_helsinki_days(area: Path) -> None:
    assert listing(
        area, folder="kuitit/2026-10", pattern="*.jpg", modified_to="2026-09-30"
    ) == ["kuitit/2026-10/b.jpg"]
    assert listing(
        area, folder="kuitit/2026-10", pattern="*.jpg", modified_from="2026-10-01"
    ) == ["kuitit/2026-10/a.jpg"]


@pytest.mark.parametrize(
    ("folder", "pattern", "says"),
    [
        ("../t2", "*", "outside your files area"),
        ("kuitit/../../t2", "*", "outside your files area"),
        ("/etc", "*", "outside your files area"),
        ("kuitit", "../../t2/*", "reaches outside the folder"),
        ("kuitit", "/etc/*", "reaches outside the folder"),
        ("kuitit/2027-01", "*", "does not exist"),
    ],
)
def test_nothing_outside_the_area(
    area: Path, folder: str, pattern: str, says: str
) -> None:
    with pytest.raises(FileRefused, match=says):
        listing(area, folder=folder, pattern=pattern)


def test_a_link_out_of_the_area_is_left_out(area: Path) -> None:
    names = listing(area, folder="kuitit/2026-10", pattern="*")
    assert "kuitit/2026-10/leak.jpg" not in names
    assert all("secret" not in name for name in names)


def test_dates_in_the_wrong_order_are_refused() -> None:
    with pytest.raises(ValueError, match="modified_from is after modified_to"):
        FilesInput.model_validate(
            {"modified_from": "2026-10-02", "modified_to": "2026-10-01"}
        )
