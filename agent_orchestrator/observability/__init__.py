"""Logging, Prometheus metrics and Sentry."""
