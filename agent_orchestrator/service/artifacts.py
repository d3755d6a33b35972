"""Artifacts: files agents made (e.g. reports), answered to the owning tenant only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import NotFound

if TYPE_CHECKING:
    from ..core.bookkeeping import Artifact, ArtifactStore
    from .access import Access
    from .caller import Caller


class Artifacts:
    """The artifact use case.

    Args:
        access: Rights and the audit trail.
        store: Where artifacts are kept; None when this process stores none.
    """

    def __init__(self, access: Access, store: ArtifactStore | None) -> None:
        self.access = access
        self.store = store

    async def get(self, caller: Caller, artifact_id: str) -> Artifact:
        """An artifact with its bytes.

        Raises:
            Forbidden: The caller may not read.
            NotFound: The tenant has no such artifact (another tenant's id is "not
                found", exactly like an unknown one).
        """
        async with self.access.reading(caller, "artifact", artifact_id):
            if self.store is None:
                raise NotFound("this service stores no artifacts")
            return await self.store.get(artifact_id, caller.tenant_id)
