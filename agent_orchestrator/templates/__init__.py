"""Shipped workflow templates, one JSON file each (data, not code)."""
