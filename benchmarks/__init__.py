"""Benchmarks comparing orm with other ORMs and raw drivers (``make bench``)."""
