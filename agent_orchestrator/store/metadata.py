"""The metadata Alembic compares against: every table of every store module."""

from __future__ import annotations

import importlib
import pkgutil

from .models import Base


def _import_model_modules() -> None:
    # Modules that declare tables on Base (models.py, ledger.py, artifacts.py, ...) must
    # be imported for their tables to join the metadata.
    package = importlib.import_module(__package__ or "agent_orchestrator.store")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


_import_model_modules()
target_metadata = Base.metadata
