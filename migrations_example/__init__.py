"""An example app: the models of API.md and a demo of the QuerySet API.

A project of two apps (this package and ``reviews``) whose tables are made
by the migrations in their ``migrations/`` packages; the settings are in
``pyproject.toml`` here. ``make demo`` migrates a fresh SQLite file with
``orm migrate`` and runs the demo on it.
"""
