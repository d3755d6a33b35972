"""Agent Orchestrator: durable workflows of bookkeeping agents, driven in Finnish."""

__version__ = "0.1.0"
