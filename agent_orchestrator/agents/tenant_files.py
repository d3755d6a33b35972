"""Each tenant's area of ``AGENT_FILES_DIR``, and what kind of file a file is.

Agents read files only inside ``files_dir/<tenant_id>``: a name that escapes the area
(``../``, an absolute path elsewhere, a symbolic link pointing out) is refused. Kinds
are told by the content's first bytes, never by the name alone.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..core.errors import NonRetryableAgentError

#: Kinds of files the agents read, with their MIME types.
CONTENT_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "pdf": "application/pdf",
    "text": "text/plain; charset=utf-8",
}
EXTENSIONS = {
    "png": ".png",
    "jpeg": ".jpg",
    "tiff": ".tif",
    "pdf": ".pdf",
    "text": ".txt",
}
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FileRefused(NonRetryableAgentError):
    """A file name the caller may not use, or a file that cannot be read as given."""


def unreadable(name: str, exc: OSError | RuntimeError) -> FileRefused:
    """The refusal of a file the system cannot read, naming it as the caller did.

    The system's own message names the server's absolute path, which callers must not
    see; only its reason (``strerror``) is kept. Reading again would fail again, so the
    refusal is not retried.
    """
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror.lower()
    elif isinstance(exc, RuntimeError):
        reason = "a symbolic link points to itself"  # Path.resolve's symlink loop
    else:
        reason = type(exc).__name__
    return FileRefused(
        f"file '{name}' cannot be read ({reason}); check the name, or upload the "
        "document again and pass the name the upload returns"
    )


def tenant_area(files_dir: Path, tenant_id: str) -> Path:
    """The tenant's own directory below `files_dir` (resolved; it may not exist yet).

    Raises:
        FileRefused: The tenant id cannot name a directory safely.
    """
    if not _TENANT.match(tenant_id) or set(tenant_id) <= {"."}:
        raise FileRefused(f"tenant id '{tenant_id}' cannot name a files area")
    return (files_dir.resolve() / tenant_id).resolve()


def resolve_file(files_dir: Path, tenant_id: str, name: str) -> Path:
    """The regular file `name` inside the tenant's area.

    `name` is relative to the area (``uploads/kuitti.png``) or an absolute path inside
    it. Symbolic links are followed and must stay inside.

    Raises:
        FileRefused: The name escapes the area, or no such file exists there.
    """
    area = tenant_area(files_dir, tenant_id)
    if not name.strip() or "\x00" in name:
        raise FileRefused(
            "no file name given: pass the name the upload returned, e.g. "
            "uploads/1a2b3c-kuitti.png"
        )
    given = Path(name)
    candidate = given if given.is_absolute() else area / given
    try:
        target = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        raise unreadable(name, exc) from None
    if not target.is_relative_to(area):
        raise FileRefused(
            f"file '{name}' is outside your files area; agents read only files you "
            "uploaded (POST /api/v1/agent-orchestrator/files) or placed in your area, "
            "named relative to it, e.g. uploads/kuitti.png"
        )
    try:
        exists, regular = target.exists(), target.is_file()
    except OSError as exc:
        raise unreadable(name, exc) from None
    if not exists:
        raise FileRefused(
            f"file '{name}' does not exist in your files area; upload it first "
            "(POST /api/v1/agent-orchestrator/files) and pass the name it returns"
        )
    if not regular:
        raise FileRefused(f"'{name}' is not a regular file; name a file, not a folder")
    return target


def sniff(head: bytes) -> str | None:
    """The kind of a file from its first bytes (at least 8 KiB for text), or None.

    Returns:
        ``png``, ``jpeg``, ``tiff``, ``pdf``, ``text`` (UTF-8 without control
        characters), or None for anything else.
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"%PDF-":
        return "pdf"
    if not head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character.
        if exc.start < len(head) - 3:
            return None
        text = head[: exc.start].decode("utf-8")
    return None if _CONTROL.search(text) else "text"


def safe_name(name: str, kind: str) -> str:
    """A file name that is safe on any file system, ending in the kind's extension."""
    base = Path(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(base).stem).strip("._-")[:80]
    return (stem or "file") + EXTENSIONS[kind]
