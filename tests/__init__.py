"""Tests of orm; run with `make test` (see conftest.py for the harness)."""
