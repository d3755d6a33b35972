"""``python -m agent_orchestrator`` runs the command-line tool."""

from .cli import main

main()
