"""``POST /api/v1/agent-orchestrator/files``: upload a document for the agents.

The body is ``multipart/form-data`` with the document in the field ``file``. Its kind is
told by its first bytes (PNG, JPEG, TIFF, PDF or UTF-8 text), not by the name or the
declared type alone. The file is stored in the caller's tenant area as
``uploads/<random>-<safe name>``; the answer names it, ready to pass as
``receipt_file`` or ``invoice_file``::

    curl -H "X-API-Key: $KEY" -F file=@kuitti.jpg \\
        http://localhost:8000/api/v1/agent-orchestrator/files
    {"file": "uploads/3f9a0c1d2b4e5f60-kuitti.jpg", "size": 48213,
     "content_type": "image/jpeg"}
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..agents.tenant_files import sniff
from ..core.errors import Problem, ValidationFailed
from ..security.permissions import Permission
from ..service.caller import Caller
from ..service.container import Services

MAX_FILE_BYTES = 20 * 1024 * 1024
#: The request body's cap (`app.py` hands it to the gate): the file plus the framing.
UPLOAD_LIMIT_BYTES = MAX_FILE_BYTES + 64 * 1024
FIELD = "file"
_SNIFF_BYTES = 8192
# Declared types that agree with each kind; a generic or missing type defers to the
# content.
_DECLARED = {
    "png": {"image/png"},
    "jpeg": {"image/jpeg", "image/jpg", "image/pjpeg"},
    "tiff": {"image/tiff", "image/tif"},
    "pdf": {"application/pdf", "application/x-pdf"},
    "text": {"text/plain"},
}
_GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
_ACCEPTED = "PNG, JPEG, TIFF, PDF or UTF-8 text"


def too_large_message(limit: int = MAX_FILE_BYTES) -> str:
    """What a caller over the size cap is told."""
    return (
        f"the upload is over the {limit // (1024 * 1024)} MiB limit for a file; "
        "scan at 300 dpi, compress the image or split the PDF, and upload again"
    )


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status
    )


def _declared(upload: UploadFile) -> str:
    return (upload.content_type or "").split(";")[0].strip().lower()


def _type_problem(kind: str | None, declared: str, head: bytes) -> str | None:
    if kind is None:
        return (
            f"the file's content is not {_ACCEPTED} (it starts with "
            f"{head[:8]!r}); convert the document to one of those and upload again"
        )
    if declared in _GENERIC or declared in _DECLARED[kind]:
        return None
    if kind == "text" and declared.startswith("text/"):
        return None
    return (
        f"the file is sent as {declared} but its content is {kind.upper()}; accepted "
        f"are {_ACCEPTED}. Upload the original file without renaming it"
    )


async def upload_file(
    request: Request, services: Services, caller: Caller
) -> JSONResponse:
    """Read one uploaded document and have it stored in the caller's files area;
    `resolvers.rest` wraps it in the error mapping."""
    # A caller without the right is refused before its (large) body is read.
    await services.access.require(
        caller, Permission.UPLOAD, "file.upload", resource_type="file"
    )
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        return _refuse(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"send the document as multipart/form-data in the field '{FIELD}' (got "
            f"{media or 'no content type'}), e.g. curl -F {FIELD}=@kuitti.jpg ...",
        )
    try:
        form = await request.form(max_files=1, max_fields=4)
    except MultiPartException as exc:
        raise ValidationFailed(
            [Problem("body", f"the multipart body cannot be read: {exc.message}")]
        ) from None
    try:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise ValidationFailed(
                [
                    Problem(
                        FIELD, f"no file in the field '{FIELD}'; send it as {FIELD}=@…"
                    )
                ]
            )
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            return _refuse(413, "PAYLOAD_TOO_LARGE", too_large_message())
        head = await upload.read(_SNIFF_BYTES)
        if not head:
            raise ValidationFailed(
                [Problem(FIELD, "the file is empty (0 bytes); upload the document")]
            )
        kind = sniff(head)
        problem = _type_problem(kind, _declared(upload), head)
        if problem is not None or kind is None:
            return _refuse(415, "UNSUPPORTED_MEDIA_TYPE", problem or "")
        stored = await services.files.store(
            caller, filename=upload.filename or FIELD, kind=kind, source=upload.file
        )
    finally:
        await form.close()
    return JSONResponse(
        {"file": stored.name, "size": stored.size, "content_type": stored.content_type},
        status_code=201,
    )
