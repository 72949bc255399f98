"""Compile-only SQL tests: SQL text and parameters, no query executed."""
