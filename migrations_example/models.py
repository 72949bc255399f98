"""Models of the example app: authors, tags and books (API.md's example)."""

from __future__ import annotations

import orm


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    email = orm.EmailField(unique=True)
    created = orm.DateTimeField(auto_now_add=True)
    # The reverse accessor Book.author adds; annotated so type checkers know it.
    books: orm.RelatedManager[Book]

    class Meta:
        app_label = "migrations_example"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Tag(orm.Model):
    name = orm.CharField(max_length=50, unique=True)
    books: orm.ManyRelatedManager[Book]

    class Meta:
        app_label = "migrations_example"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Book(orm.Model):
    title = orm.CharField(max_length=200, db_index=True)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    tags = orm.ManyToManyField(Tag, related_name="books", blank=True)
    price = orm.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        app_label = "migrations_example"

    def __str__(self) -> str:
        return self.title
