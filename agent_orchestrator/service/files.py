"""Uploaded documents: stored in the caller's tenant area, where the agents read them.

The transport reads the upload and tells its kind from its first bytes (`sniff`); this
use case stores it under a new name that never overwrites another file.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import anyio.to_thread

from ..agents.tenant_files import CONTENT_TYPES, safe_name, tenant_area
from ..security.permissions import Permission

if TYPE_CHECKING:
    from pathlib import Path

    from .access import Access
    from .caller import Caller

UPLOADS = "uploads"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An uploaded document as the agents will find it.

    Attributes:
        name: Its name in the tenant's area (``uploads/<random>-<safe name>``), ready
            to pass as ``receipt_file`` or ``invoice_file``.
        size: Bytes stored.
        content_type: The media type of its kind.
    """

    name: str
    size: int
    content_type: str


class Files:
    """The upload use case.

    Args:
        access: Rights and the audit trail.
        files_dir: ``AGENT_FILES_DIR``; each tenant has its own area inside it.
    """

    def __init__(self, access: Access, files_dir: Path) -> None:
        self.access = access
        self.files_dir = files_dir

    async def store(
        self, caller: Caller, *, filename: str, kind: str, source: IO[bytes]
    ) -> StoredFile:
        """Copy an upload into the caller's area; ``file.upload`` is written.

        Args:
            caller: Who uploads.
            filename: The name the client gave (made safe; only its stem is kept).
            kind: What `agents.tenant_files.sniff` found (png, jpeg, tiff, pdf, text).
            source: The upload's bytes (read from the start).

        Raises:
            Forbidden: The caller may not upload.
        """
        action = "file.upload"
        await self.access.require(
            caller, Permission.UPLOAD, action, resource_type="file"
        )
        folder = tenant_area(self.files_dir, caller.tenant_id) / UPLOADS
        await anyio.to_thread.run_sync(
            lambda: folder.mkdir(parents=True, exist_ok=True)
        )
        name = f"{secrets.token_hex(8)}-{safe_name(filename, kind)}"
        size = await anyio.to_thread.run_sync(_copy, source, folder / name)
        stored = StoredFile(f"{UPLOADS}/{name}", size, CONTENT_TYPES[kind])
        await self.access.record(
            self.access.entry(
                caller,
                action,
                resource_type="file",
                resource_id=stored.name,
                details={"size": stored.size, "content_type": stored.content_type},
            )
        )
        return stored


def _copy(source: IO[bytes], target: Path) -> int:
    """Copy the spooled upload into a new file (never over an existing one)."""
    source.seek(0)
    with open(target, "xb") as handle:
        shutil.copyfileobj(source, handle, 1024 * 1024)
        return int(handle.tell())
