"""Expressions: Q, F, Value, aggregates, Exists/OuterRef/Subquery, Case/When, Coalesce, text functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

import orm
from orm import F, Q
from tests.integration.conftest import Library
from tests.models import AllFields, Author, Book, Tag


def titles(qs: orm.QuerySet[Book]) -> list[str]:
    return [b.title for b in qs]


# -------------------------------------------------------------------------- Q


def test_q_or_and_not(library: Library) -> None:
    qs = Book.objects.filter(Q(title__startswith="SQL") | Q(pages__gte=400)).order_by("title")
    assert titles(qs) == ["Advanced Python", "SQL 101"]
    qs = Book.objects.filter(Q(author=library.alice) & ~Q(pages=200))
    assert titles(qs) == ["Advanced Python"]
    qs = Book.objects.filter(~Q(author=library.alice)).order_by("title")
    assert titles(qs) == ["Django Unchained", "SQL 101"]


def test_q_nested_with_keyword_arguments(library: Library) -> None:
    condition = (Q(author__name="Alice") | Q(author__name="Bob", price__lt=10)) & Q(
        title__icontains="s"
    )
    assert titles(Book.objects.filter(condition).order_by("title")) == [
        "Python Basics",
        "SQL 101",
    ]
    # Q objects and keyword arguments mix; Q must come first.
    assert titles(
        Book.objects.filter(Q(pages__gt=250) | Q(pages__isnull=True), author=library.bob).order_by(
            "title"
        )
    ) == ["Django Unchained", "SQL 101"]


def test_empty_q_matches_everything(library: Library) -> None:
    assert Book.objects.filter(Q()).count() == 4
    assert Book.objects.filter(Q() | Q(title="SQL 101")).count() >= 1


def test_q_rejects_unknown_connector(library: Library) -> None:
    with pytest.raises((ValueError, TypeError)):
        Book.objects.filter(Q(title="x", _connector="OR 1=1 OR"))


# -------------------------------------------------------------------------- F


def test_f_compares_columns(library: Library) -> None:
    library.basics.pages = 10
    library.basics.save()
    # pages < price (10 < 19.99) only for Python Basics now
    assert titles(Book.objects.filter(pages__lt=F("price"))) == ["Python Basics"]
    assert Author.objects.filter(books__title__startswith=F("name")).count() == 0


def test_f_arithmetic_in_annotations(library: Library) -> None:
    rows = dict(
        Book.objects.filter(pages__isnull=False)
        .annotate(
            per_page=F("price") / F("pages"),
            doubled=F("pages") * 2,
            plus=F("pages") + 1,
            minus=F("pages") - 1,
        )
        .values_list("title", "doubled")
    )
    assert rows == {"Python Basics": 400, "Advanced Python": 900, "Django Unchained": 600}
    row = Book.objects.annotate(plus=F("pages") + 1, minus=F("pages") - 1, mod=F("pages") % 7).get(
        pk=library.basics.pk
    )
    assert (row.plus, row.minus, row.mod) == (201, 199, 200 % 7)


def test_f_with_null_yields_null(library: Library) -> None:
    assert Book.objects.annotate(x=F("pages") + 1).get(pk=library.sql101.pk).x is None


def test_f_update_is_atomic_in_the_database(library: Library) -> None:
    Book.objects.filter(pk=library.basics.pk).update(pages=F("pages") + 5)
    Book.objects.filter(pk=library.basics.pk).update(pages=F("pages") * 2)
    assert Book.objects.get(pk=library.basics.pk).pages == 410


def test_f_across_relations(library: Library) -> None:
    rows = list(
        Book.objects.annotate(who=F("author__name")).order_by("title").values_list("title", "who")
    )
    assert rows[0] == ("Advanced Python", "Alice")


def test_f_unknown_field_raises_field_error(library: Library) -> None:
    with pytest.raises(orm.FieldError):
        list(Book.objects.filter(pages=F("nope")))


# ---------------------------------------------------------------------- Value


def test_value_annotation(library: Library) -> None:
    row = Book.objects.annotate(kind=orm.Value("book"), one=orm.Value(1)).get(pk=library.basics.pk)
    assert row.kind == "book"
    assert row.one == 1


def test_value_is_a_parameter_not_sql(library: Library) -> None:
    hostile = "x'); DROP TABLE tests_book; --"
    qs = Book.objects.annotate(v=orm.Value(hostile))
    assert qs.first().v == hostile  # type: ignore[union-attr]
    sql, params = qs.query.sql_with_params()
    assert hostile not in sql
    assert hostile in params
    assert Book.objects.count() == 4


# ----------------------------------------------------------------- aggregates


def test_count_sum_avg_min_max_in_annotate(library: Library) -> None:
    rows = {
        a.name: (a.n, a.total, a.avg_pages, a.cheapest, a.dearest)
        for a in Author.objects.annotate(
            n=orm.Count("books"),
            total=orm.Sum("books__price"),
            avg_pages=orm.Avg("books__pages"),
            cheapest=orm.Min("books__price"),
            dearest=orm.Max("books__price"),
        )
    }
    assert rows["Alice"] == (2, Decimal("69.49"), 325, Decimal("19.99"), Decimal("49.50"))
    assert rows["Bob"] == (2, Decimal("44.99"), 300, Decimal("9.99"), Decimal("35.00"))
    assert rows["Carol"] == (0, None, None, None, None)


def test_count_distinct_and_filtered(library: Library) -> None:
    rows = dict(
        Author.objects.annotate(
            tag_links=orm.Count("books__tags"),
            tags=orm.Count("books__tags", distinct=True),
            python_books=orm.Count("books", filter=Q(books__tags__name="python")),
        ).values_list("name", "tags")
    )
    assert rows == {"Alice": 2, "Bob": 3, "Carol": 0}
    alice = Author.objects.annotate(
        tag_links=orm.Count("books__tags"),
        python_books=orm.Count("books", filter=Q(books__tags__name="python")),
    ).get(name="Alice")
    assert alice.tag_links == 3
    assert alice.python_books == 2


def test_annotate_values_group_by(library: Library) -> None:
    rows = list(
        Book.objects.values("author__name")
        .annotate(n=orm.Count("id"), s=orm.Sum("pages"))
        .order_by("author__name")
    )
    assert rows == [
        {"author__name": "Alice", "n": 2, "s": 650},
        {"author__name": "Bob", "n": 2, "s": 300},
    ]


def test_aggregate_of_expression(library: Library) -> None:
    result = Book.objects.aggregate(value=orm.Sum(F("price") * 2))
    assert result["value"] == Decimal("228.96")


def test_aggregate_order_by_annotation(library: Library) -> None:
    names = list(
        Tag.objects.annotate(n=orm.Count("books")).order_by("-n", "name").values_list("name", "n")
    )
    assert names == [("python", 3), ("sql", 2), ("django", 1)]


# --------------------------------------------------- Exists/OuterRef/Subquery


def test_exists_with_outer_ref(library: Library) -> None:
    expensive = Book.objects.filter(author=orm.OuterRef("pk"), price__gt=40)
    rows = dict(
        Author.objects.annotate(has_expensive=orm.Exists(expensive)).values_list(
            "name", "has_expensive"
        )
    )
    assert rows == {"Alice": True, "Bob": False, "Carol": False}
    assert [a.name for a in Author.objects.filter(orm.Exists(expensive))] == ["Alice"]
    assert [a.name for a in Author.objects.filter(~orm.Exists(expensive))] == ["Bob", "Carol"]


def test_subquery_with_outer_ref(library: Library) -> None:
    newest = Book.objects.filter(author=orm.OuterRef("pk")).order_by("-price").values("title")[:1]
    rows = dict(Author.objects.annotate(top=orm.Subquery(newest)).values_list("name", "top"))
    assert rows == {"Alice": "Advanced Python", "Bob": "Django Unchained", "Carol": None}


def test_subquery_in_filter_and_in_lookup(library: Library) -> None:
    alice_books = Book.objects.filter(author__name="Alice").values("pk")
    assert sorted(
        Tag.objects.filter(books__in=alice_books).distinct().values_list("name", flat=True)
    ) == [
        "python",
        "sql",
    ]
    assert titles(
        Book.objects.filter(author__in=Author.objects.filter(name="Bob")).order_by("title")
    ) == [
        "Django Unchained",
        "SQL 101",
    ]


def test_subquery_aggregate_per_row(library: Library) -> None:
    total = (
        Book.objects.filter(author=orm.OuterRef("pk"))
        .values("author")
        .annotate(s=orm.Sum("pages"))
        .values("s")
    )
    rows = dict(Author.objects.annotate(pages=orm.Subquery(total)).values_list("name", "pages"))
    assert rows == {"Alice": 650, "Bob": 300, "Carol": None}


# ------------------------------------------------------------------ Case/When


def test_case_when(library: Library) -> None:
    band = orm.Case(
        orm.When(price__lt=10, then=orm.Value("cheap")),
        orm.When(price__lt=40, then=orm.Value("mid")),
        default=orm.Value("dear"),
    )
    rows = dict(Book.objects.annotate(band=band).values_list("title", "band"))
    assert rows == {
        "Python Basics": "mid",
        "Advanced Python": "dear",
        "Django Unchained": "mid",
        "SQL 101": "cheap",
    }


def test_case_when_with_q_in_update(library: Library) -> None:
    Book.objects.update(
        pages=orm.Case(
            orm.When(Q(price__gt=40) & Q(pages__gt=300), then=orm.Value(1)),
            orm.When(pages__isnull=True, then=orm.Value(0)),
            default=F("pages"),
        )
    )
    assert dict(Book.objects.values_list("title", "pages")) == {
        "Python Basics": 200,
        "Advanced Python": 1,
        "Django Unchained": 300,
        "SQL 101": 0,
    }


def test_update_with_joined_f_is_refused(library: Library) -> None:
    with pytest.raises(orm.FieldError, match="Joined field references"):
        Book.objects.update(title=F("author__name"))


def test_case_in_order_by_and_aggregate(library: Library) -> None:
    priority = orm.Case(orm.When(title="SQL 101", then=orm.Value(0)), default=orm.Value(1))
    assert titles(Book.objects.order_by(priority, "title"))[0] == "SQL 101"
    result = Book.objects.aggregate(
        cheap=orm.Sum(orm.Case(orm.When(price__lt=20, then=orm.Value(1)), default=orm.Value(0)))
    )
    assert result == {"cheap": 2}


# ------------------------------------------------------------------- Coalesce


def test_coalesce(library: Library) -> None:
    rows = dict(
        Book.objects.annotate(p=orm.Coalesce("pages", orm.Value(0))).values_list("title", "p")
    )
    assert rows["SQL 101"] == 0
    assert rows["Python Basics"] == 200
    rows = dict(
        Author.objects.annotate(
            total=orm.Coalesce(orm.Sum("books__pages"), orm.Value(0))
        ).values_list("name", "total")
    )
    assert rows == {"Alice": 650, "Bob": 300, "Carol": 0}


def test_coalesce_needs_two_expressions() -> None:
    with pytest.raises((ValueError, TypeError)):
        orm.Coalesce("pages")


def test_coalesce_in_filter(library: Library) -> None:
    assert titles(
        Book.objects.annotate(p=orm.Coalesce("pages", orm.Value(0)))
        .filter(p__lt=250)
        .order_by("title")
    ) == ["Python Basics", "SQL 101"]


# ------------------------------------------------------- Lower/Upper/Length


def test_lower_upper_length(library: Library) -> None:
    row = Book.objects.annotate(
        lo=orm.Lower("title"), up=orm.Upper("title"), n=orm.Length("title")
    ).get(pk=library.sql101.pk)
    assert (row.lo, row.up, row.n) == ("sql 101", "SQL 101", 7)


def test_text_functions_in_filter_and_order(library: Library) -> None:
    assert Author.objects.annotate(lo=orm.Lower("name")).get(lo="bob") == library.bob
    assert titles(Book.objects.annotate(n=orm.Length("title")).filter(n__gt=13).order_by("-n")) == [
        "Django Unchained",
        "Advanced Python",
    ]
    assert (
        Author.objects.filter(
            name__in=Author.objects.annotate(u=orm.Upper("name")).filter(u="CAROL").values("name")
        ).get()
        == library.carol
    )


def test_length_of_null_is_null(db: str) -> None:
    obj = AllFields.objects.create(email_value=None)
    assert AllFields.objects.annotate(n=orm.Length("email_value")).get(pk=obj.pk).n is None


def test_nested_functions(library: Library) -> None:
    row = Author.objects.annotate(x=orm.Length(orm.Lower("email"))).get(pk=library.bob.pk)
    assert row.x == len("bob@example.com")


# ----------------------------------------------------------- ExpressionWrapper


def test_expression_wrapper_output_field(library: Library) -> None:
    row = Book.objects.annotate(
        total=orm.ExpressionWrapper(
            F("price") * F("pages"), output_field=orm.DecimalField(max_digits=12, decimal_places=2)
        )
    ).get(pk=library.basics.pk)
    assert row.total == Decimal("3998.00")


# ------------------------------------------------------------ once broken


def test_f_expression_assigned_to_an_instance_is_saved(library: Library) -> None:
    book = Book.objects.get(pk=library.basics.pk)
    book.pages = F("pages") + 1
    book.save()  # actual: orm.ProgrammingError "Error binding parameter 4: type 'CombinedExpression'..."
    book.refresh_from_db()
    assert book.pages == 201


# ------------------------------------------------------------ once broken


def test_joined_reference_in_when_inside_update_raises_field_error(library: Library) -> None:
    with pytest.raises(
        orm.FieldError
    ):  # actual: orm.OperationalError "no such column: tests_book.name"
        Book.objects.update(
            pages=orm.Case(
                orm.When(Q(author__name="Alice"), then=orm.Value(1)),
                default=F("pages"),
            )
        )


# ------------------------------------------------------------ once broken


def test_case_without_default_is_null(library: Library) -> None:
    # actual: FieldError("Cannot determine the output type of Value(None); pass output_field=...")
    rows = dict(
        Book.objects.annotate(x=orm.Case(orm.When(pages=200, then=orm.Value(1)))).values_list(
            "title", "x"
        )
    )
    assert rows["Python Basics"] == 1
    assert rows["SQL 101"] is None
