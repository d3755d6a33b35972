"""Artifacts (files agents made, e.g. reports): the REST download of the bytes and the
GraphQL `artifact` query of their metadata. Both answer the owning tenant's keys only;
another tenant's id is "not found", exactly like an unknown one."""

from __future__ import annotations

from urllib.parse import quote

import strawberry
from starlette.requests import Request
from starlette.responses import Response

from ..schema.context import Info
from ..schema.types.artifact import DOWNLOAD_PATH, Artifact
from ..service.caller import Caller
from ..service.container import Services

__all__ = ["DOWNLOAD_PATH", "ArtifactQuery", "download_artifact"]


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value with an ASCII fallback name and the exact UTF-8
    name (RFC 6266, RFC 5987)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
        for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


async def download_artifact(
    request: Request, services: Services, caller: Caller
) -> Response:
    """``GET /api/v1/agent-orchestrator/artifacts/{artifact_id}``: the file's bytes,
    its content type and a download name. `resolvers.rest` wraps it in the error
    mapping (unknown or foreign id: 404)."""
    artifact = await services.artifacts.get(caller, request.path_params["artifact_id"])
    return Response(
        artifact.content,
        media_type=artifact.content_type,
        headers={
            "Content-Disposition": content_disposition(artifact.filename),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@strawberry.type
class ArtifactQuery:
    """Reading artifacts' metadata."""

    # Strawberry types its decorators called with arguments as returning Any (one
    # overload also serves `x: int = strawberry.field(...)`), hence these ignores.
    @strawberry.field(  # type: ignore[untyped-decorator]
        description="A file an agent made (e.g. a report), by id; download its bytes "
        "from `downloadUrl`."
    )
    async def artifact(self, info: Info, id: strawberry.ID) -> Artifact:
        record = await info.context.services.artifacts.get(info.context.caller, str(id))
        return Artifact.of(record, str(info.context.request.base_url))
