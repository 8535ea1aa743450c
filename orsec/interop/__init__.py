"""Interoperability with partner systems: secure parsing and standard messages (CAP…)."""
