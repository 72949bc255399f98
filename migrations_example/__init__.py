"""An example app: the models of API.md and a demo of the QuerySet API.

``python -m migrations_example.demo`` (or ``make demo``) runs the demo on a
throw-away SQLite database. The migrations work will add ``migrations/`` here.
"""
