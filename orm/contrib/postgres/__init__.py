"""Django's ``django.contrib.postgres`` names that ``orm`` provides (on SQLite too)."""
