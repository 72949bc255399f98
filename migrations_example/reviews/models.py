"""Models of the ``reviews`` app: a review of a book (a relation to the other app)."""

from __future__ import annotations

import orm


class Review(orm.Model):
    book = orm.ForeignKey("migrations_example.Book", on_delete=orm.CASCADE, related_name="reviews")
    book_id: int  # the key column; annotated so type checkers know it
    rating = orm.IntegerField()
    text = orm.TextField()
    summary = orm.CharField(max_length=60, default="", blank=True)

    class Meta:
        app_label = "reviews"
        indexes = [orm.Index(fields=["book", "-rating"], name="reviews_book_rating_idx")]
        constraints = [
            orm.CheckConstraint(
                condition=orm.Q(rating__gte=1, rating__lte=5), name="reviews_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 for book {self.book_id}"
