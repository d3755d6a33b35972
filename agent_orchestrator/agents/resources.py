"""What built-in and plugin agents are given when they are made (the app fills it
in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AgentResources:
    """Settings and services agents may use.

    Attributes:
        files_dir: The root of the files agents may read (``AGENT_FILES_DIR``); each
            tenant has its own area below it.
        services: Named services made by the app (ledger store, artifact store, mail
            settings, model client factory, ...), looked up by the agents that need
            them.
    """

    files_dir: Path = Path("files")
    services: dict[str, Any] = field(default_factory=dict)
