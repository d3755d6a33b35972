"""The one permission table every resolver, REST route and subscription checks."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from ..core.enums import Role
from ..core.errors import Forbidden

if TYPE_CHECKING:
    from ..core.auth import Principal


class Permission(enum.StrEnum):
    """Things a caller may do."""

    READ = "read"  # agents, templates, workflows, executions, events, metrics,
    # and the artifacts (report files) executions made
    RUN = "run"  # start and cancel executions
    COPILOT = "copilot"  # plan and run Finnish commands
    SAVE_WORKFLOW = "save_workflow"
    DELETE_WORKFLOW = "delete_workflow"
    UPLOAD = "upload"  # files for the agents
    REVIEW = "review"  # read, correct and book the documents held for review
    MANAGE_KEYS = "manage_keys"  # create, list, revoke API keys
    READ_AUDIT = "read_audit"
    SCRAPE_METRICS = "scrape_metrics"  # /metrics, every tenant's counts together


#: The lowest role that has each permission (viewer < operator < admin).
PERMISSIONS: dict[Permission, Role] = {
    Permission.READ: Role.VIEWER,
    Permission.RUN: Role.OPERATOR,
    Permission.COPILOT: Role.OPERATOR,
    Permission.SAVE_WORKFLOW: Role.OPERATOR,
    Permission.UPLOAD: Role.OPERATOR,
    Permission.REVIEW: Role.OPERATOR,
    Permission.DELETE_WORKFLOW: Role.ADMIN,
    Permission.MANAGE_KEYS: Role.ADMIN,
    Permission.READ_AUDIT: Role.ADMIN,
    Permission.SCRAPE_METRICS: Role.ADMIN,
}


def allowed(principal: Principal, permission: Permission, *, rbac: bool = True) -> bool:
    """Whether the caller has `permission` (always, with RBAC switched off)."""
    return not rbac or principal.role.includes(PERMISSIONS[permission])


def require(principal: Principal, permission: Permission, *, rbac: bool = True) -> None:
    """Refuse a caller without `permission`.

    Raises:
        Forbidden: Naming the role needed.
    """
    if not allowed(principal, permission, rbac=rbac):
        needed = PERMISSIONS[permission].value
        raise Forbidden(
            f"this needs role {needed}; your key has {principal.role.value}. "
            "Ask an admin for a key with that role"
        )


def effective_role(principal: Principal, *, rbac: bool = True) -> Role:
    """The role to check agents against (ADMIN when RBAC is off)."""
    return principal.role if rbac else Role.ADMIN
