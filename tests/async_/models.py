"""Models for the async-skin tests: the shared book shop (``tests/shared_models.py``)."""

from __future__ import annotations

from tests.shared_models import ALL_MODELS, Author, Book, City, Publisher, Tag

__all__ = ["ALL_MODELS", "Author", "Book", "City", "Publisher", "Tag"]
