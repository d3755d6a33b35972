"""Uploaded documents: stored in the caller's tenant area, where the agents read them.

The transport reads the upload and tells its kind from its first bytes (`sniff`); this
use case stores it under a new name that never overwrites another file.

Each tenant may upload ``AGENT_UPLOAD_QUOTA_BYTES_PER_DAY`` bytes in any 24 hours. What
it has used is counted from the stored uploads themselves (their sizes and times), so
every process sharing the files directory counts the same; an upload over the quota
is refused before anything of it is written. Within a process a tenant's uploads are
checked and stored one at a time; two processes may still both admit an upload at the
same instant, which overshoots the quota by at most one file each.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

import anyio
import anyio.to_thread

from ..agents.tenant_files import CONTENT_TYPES, safe_name, tenant_area
from ..core.errors import QuotaExceeded
from ..security.permissions import Permission

if TYPE_CHECKING:
    from pathlib import Path

    from .access import Access
    from .caller import Caller

UPLOADS = "uploads"
#: The window of the upload quota.
QUOTA_WINDOW_S = 24 * 60 * 60


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
        quota_bytes_per_day: ``AGENT_UPLOAD_QUOTA_BYTES_PER_DAY``; None for no quota.
    """

    def __init__(
        self, access: Access, files_dir: Path, *, quota_bytes_per_day: int | None = None
    ) -> None:
        self.access = access
        self.files_dir = files_dir
        self.quota_bytes_per_day = quota_bytes_per_day
        self._locks: dict[str, anyio.Lock] = {}

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
            QuotaExceeded: The upload would take the tenant over its daily quota;
                nothing is written.
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
        lock = self._locks.setdefault(caller.tenant_id, anyio.Lock())
        async with lock:
            if self.quota_bytes_per_day is not None:
                await anyio.to_thread.run_sync(
                    _check_quota, folder, _size_of(source), self.quota_bytes_per_day
                )
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


def _size_of(source: IO[bytes]) -> int:
    source.seek(0, os.SEEK_END)
    return source.tell()


def used_today(folder: Path, now: float | None = None) -> int:
    """Bytes of the uploads in `folder` stored in the last 24 hours."""
    since = (time.time() if now is None else now) - QUOTA_WINDOW_S
    used = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed meanwhile
            if entry.is_file(follow_symlinks=False) and stat.st_mtime >= since:
                used += stat.st_size
    return used


def _check_quota(folder: Path, size: int, quota: int) -> None:
    used = used_today(folder)
    if used + size > quota:
        raise QuotaExceeded(
            f"this upload of {size} bytes would take your uploads over the quota of "
            f"{quota} bytes in 24 hours ({used} bytes uploaded in the last 24 hours, "
            f"{max(quota - used, 0)} left); upload it later, or ask an operator to "
            "raise AGENT_UPLOAD_QUOTA_BYTES_PER_DAY"
        )


def _copy(source: IO[bytes], target: Path) -> int:
    """Copy the spooled upload into a new file (never over an existing one)."""
    source.seek(0)
    with open(target, "xb") as handle:
        shutil.copyfileobj(source, handle, 1024 * 1024)
        return int(handle.tell())
