"""`ExecuteRequest` by the import path the command line uses; starting executions is a
use case now (`service.starting`, `service.executions`), and the engine only runs what
`Runner.submit` is given. This module goes once the command line imports from
`service`."""

from __future__ import annotations

from ..service.starting import ExecuteRequest

__all__ = ["ExecuteRequest"]
