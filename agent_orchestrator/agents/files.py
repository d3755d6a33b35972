"""`files_agent`: lists the tenant's files in a folder of its area, by a glob pattern
and optional modification dates; the list a for-each runs over (one receipt each).

Names are relative to the tenant's area, so each one is what `ocr_agent` takes as its
`file`. The folder must stay inside the area (the rules of `tenant_files`), and so must
every file listed: a symbolic link that points out of the area is left out.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import anyio
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.enums import Role
from ..core.protocols import AgentContext, LocalizedText
from .base import BaseAgent
from .tenant_files import FileRefused, tenant_area, unreadable

if TYPE_CHECKING:
    from pathlib import Path

    from .resources import AgentResources

#: Dates are days in Helsinki time (DESIGN.md "Shipped templates").
_ZONE = ZoneInfo("Europe/Helsinki")
#: At most this many names are listed; AGENT_MAX_FOREACH_ITEMS bounds a for-each.
MAX_FILES = 10_000


class FilesInput(BaseModel):
    """Which files to list."""

    model_config = ConfigDict(extra="forbid")

    folder: str = Field(
        default="",
        max_length=1_000,
        description="Folder relative to your files area, e.g. kuitit/2026-10 "
        "(empty: the area itself).",
    )
    pattern: str = Field(
        default="*",
        min_length=1,
        max_length=200,
        description="Glob pattern of file names, e.g. *.jpg; ** matches subfolders.",
    )
    modified_from: dt.date | None = Field(
        default=None, description="Only files modified on or after this day."
    )
    modified_to: dt.date | None = Field(
        default=None, description="Only files modified on or before this day."
    )

    @model_validator(mode="after")
    def _dates_in_order(self) -> FilesInput:
        if (
            self.modified_from is not None
            and self.modified_to is not None
            and self.modified_from > self.modified_to
        ):
            raise ValueError("modified_from is after modified_to")
        return self


class FilesOutput(BaseModel):
    """The files found."""

    files: list[str] = Field(
        description="Names relative to your files area, sorted (as ocr_agent's file)."
    )
    count: int = Field(description="How many files were found.")


class FilesAgent(BaseAgent[FilesInput, FilesOutput]):
    """Lists the tenant's files in a folder."""

    id = "files_agent"
    name = "Files"
    description = LocalizedText(
        fi="Listaa tiedostot kansiosta (esim. kuitit/2026-10) nimen kaavalla "
        "(esim. *.jpg) ja valinnaisesti muokkauspäivien mukaan; lista, jonka "
        "jokainen tiedosto voidaan käsitellä (for_each).",
        en="Lists files in a folder of your area (e.g. kuitit/2026-10) by a name "
        "pattern (e.g. *.jpg) and optionally by modification dates; the list a "
        "for_each processes one file at a time.",
    )
    input_model = FilesInput
    output_model = FilesOutput
    min_role = Role.VIEWER

    def __init__(self, resources: AgentResources) -> None:
        self.files_dir = resources.files_dir

    async def run(self, inputs: FilesInput, ctx: AgentContext) -> FilesOutput:
        """List the files (in a worker thread: a folder may be large)."""
        files = await anyio.to_thread.run_sync(
            list_files, self.files_dir, ctx.tenant_id, inputs
        )
        return FilesOutput(files=files, count=len(files))


def list_files(files_dir: Path, tenant_id: str, inputs: FilesInput) -> list[str]:
    """The sorted names of the regular files in the folder that match.

    Raises:
        FileRefused: The folder or pattern leaves the area, or the folder is missing.
    """
    area = tenant_area(files_dir, tenant_id)
    folder_name = inputs.folder.strip()
    if "\x00" in folder_name or "\x00" in inputs.pattern:
        raise FileRefused("a folder or pattern cannot contain NUL")
    if inputs.pattern.startswith("/") or ".." in inputs.pattern.split("/"):
        raise FileRefused(
            f"pattern '{inputs.pattern}' reaches outside the folder; give a pattern "
            "of names such as *.jpg or **/*.pdf"
        )
    try:
        folder = (area / folder_name).resolve() if folder_name else area
    except (OSError, RuntimeError) as exc:
        raise unreadable(folder_name, exc) from None
    if not folder.is_relative_to(area):
        raise FileRefused(
            f"folder '{folder_name}' is outside your files area; name a folder "
            "relative to it, e.g. kuitit/2026-10"
        )
    if not folder.is_dir():
        raise FileRefused(
            f"folder '{folder_name or '.'}' does not exist in your files area; "
            "check the name, e.g. kuitit/2026-10"
        )
    start = _day_start(inputs.modified_from)
    end = (
        _day_start(inputs.modified_to + dt.timedelta(days=1))
        if inputs.modified_to
        else None
    )
    names: list[str] = []
    for path in folder.glob(inputs.pattern):
        try:
            target = path.resolve()
            if not target.is_relative_to(area) or not target.is_file():
                continue  # a link out of the area, or a folder
            modified = dt.datetime.fromtimestamp(target.stat().st_mtime, dt.UTC)
        except (OSError, RuntimeError):
            continue
        if (start is not None and modified < start) or (
            end is not None and modified >= end
        ):
            continue
        names.append(path.relative_to(area).as_posix())
        if len(names) > MAX_FILES:
            raise FileRefused(
                f"more than {MAX_FILES} files match '{inputs.pattern}' in "
                f"'{folder_name or '.'}'; narrow the pattern or the dates"
            )
    return sorted(names)


def _day_start(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(), _ZONE)
