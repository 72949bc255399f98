"""Fault injection on PostgreSQL (RELIABILITY.md (b) F1-F6, F9, F15-F17; issue 5)."""
