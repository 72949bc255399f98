"""Hostile-input (security and bad-value) tests: RELIABILITY.md section (a), rows A1-A16."""
