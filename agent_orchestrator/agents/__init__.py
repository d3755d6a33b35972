"""The agent registry and the built-in agents, one module each."""
