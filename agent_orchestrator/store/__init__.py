"""Persistence: SQLAlchemy models, the database handle and repositories.

The only package that speaks SQL; others reach it through `core` Protocols.
"""
