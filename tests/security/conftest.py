"""The security tests reuse the API tests' real server per database kind."""

from tests.api.conftest import api  # noqa: F401 (the fixture, shared)
