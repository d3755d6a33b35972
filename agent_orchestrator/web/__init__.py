"""The dashboard page and the locally served static assets (no CDN)."""
