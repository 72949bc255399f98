"""Connections per alias and thread, the cursor wrapper with the one
error-translation boundary, and transactions."""
