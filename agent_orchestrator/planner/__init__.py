"""The copilot planner: Finnish commands to validated workflow graphs."""
