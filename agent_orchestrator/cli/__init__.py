"""The command-line tool ``agent-orchestrator`` (also installed as
``converto-agent-cli``).

It talks to the database named by the same settings as the server (``DATABASE_URL``,
``.env``).
"""

from .commands import app, main

__all__ = ["app", "main"]
