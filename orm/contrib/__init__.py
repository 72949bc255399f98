"""Counterparts of Django's ``django.contrib`` modules that concern the query layer."""
