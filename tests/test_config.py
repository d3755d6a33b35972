"""The deployment profile: ``AGENT_ENV=production`` turns introspection, field
suggestions and GraphiQL off unless each is set explicitly."""

from __future__ import annotations

import pytest

from agent_orchestrator.config import load_settings
from agent_orchestrator.core.errors import ConfigurationError

CONVENIENCES = (
    "AGENT_GRAPHQL_INTROSPECTION",
    "AGENT_GRAPHQL_SUGGESTIONS",
    "AGENT_GRAPHIQL",
    "AGENT_GRAPHQL_GET",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AGENT_ENV", *CONVENIENCES):
        monkeypatch.delenv(name, raising=False)


def conveniences(**overrides: object) -> tuple[bool, bool, bool, bool]:
    settings = load_settings(_env_file=None, **overrides)
    return (
        settings.agent_graphql_introspection,
        settings.agent_graphql_suggestions,
        settings.agent_graphiql,
        settings.agent_graphql_get,
    )


def test_development_is_the_default_and_keeps_everything_on() -> None:
    assert load_settings(_env_file=None).agent_env == "development"
    assert conveniences() == (True, True, True, True)


def test_production_turns_the_conveniences_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_ENV", "Production")
    assert conveniences() == (False, False, False, False)


def test_a_setting_given_explicitly_wins_over_the_profile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AGENT_ENV", "production")
    monkeypatch.setenv("AGENT_GRAPHQL_INTROSPECTION", "true")
    assert conveniences() == (True, False, False, False)
    monkeypatch.setenv("AGENT_GRAPHIQL", "true")
    monkeypatch.setenv("AGENT_GRAPHQL_SUGGESTIONS", "true")
    monkeypatch.setenv("AGENT_GRAPHQL_GET", "true")
    assert conveniences() == (True, True, True, True)
    # Off in development when asked.
    monkeypatch.setenv("AGENT_ENV", "development")
    monkeypatch.setenv("AGENT_GRAPHIQL", "false")
    assert conveniences() == (True, True, False, True)


def test_an_unknown_profile_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_ENV", "staging")
    with pytest.raises(ConfigurationError, match="AGENT_ENV='staging'"):
        load_settings(_env_file=None)
