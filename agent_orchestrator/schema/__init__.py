"""Strawberry types, inputs, enums and scalars; the per-request context and loaders."""
