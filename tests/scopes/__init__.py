"""Connection scopes, the ASGI middleware and connection leaks (issue 6)."""
