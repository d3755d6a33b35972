"""API keys, roles, tenants, rate limiting and audit."""
