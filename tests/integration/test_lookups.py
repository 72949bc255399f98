"""Every lookup of API.md, across relations and into JSON documents."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

import orm
from tests.conftest import QueryCounter
from tests.integration.conftest import Library
from tests.models import AllFields, Article, Author, Book, Tag

UTC = datetime.UTC


def titles(qs: orm.QuerySet[Book]) -> list[str]:
    return sorted(b.title for b in qs)


# -------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("lookup", "value", "expected"),
    [
        ("exact", "SQL 101", ["SQL 101"]),
        ("exact", "sql 101", []),
        ("iexact", "sql 101", ["SQL 101"]),
        ("contains", "Python", ["Advanced Python", "Python Basics"]),
        ("contains", "python", []),
        ("icontains", "python", ["Advanced Python", "Python Basics"]),
        ("startswith", "Py", ["Python Basics"]),
        ("startswith", "py", []),
        ("istartswith", "py", ["Python Basics"]),
        ("endswith", "Python", ["Advanced Python"]),
        ("endswith", "python", []),
        ("iendswith", "PYTHON", ["Advanced Python"]),
        ("regex", r"^[A-D].*n$", ["Advanced Python"]),
        ("regex", r"^s", []),
        ("iregex", r"^s", ["SQL 101"]),
        ("in", ["SQL 101", "Python Basics", "missing"], ["Python Basics", "SQL 101"]),
        ("gt", "Python Basics", ["SQL 101"]),
        ("gte", "Python Basics", ["Python Basics", "SQL 101"]),
        ("lt", "B", ["Advanced Python"]),
        ("lte", "Django Unchained", ["Advanced Python", "Django Unchained"]),
        ("range", ("B", "Q"), ["Django Unchained", "Python Basics"]),
    ],
)
def test_text_lookups(library: Library, lookup: str, value: object, expected: list[str]) -> None:
    assert titles(Book.objects.filter(**{f"title__{lookup}": value})) == expected


@pytest.mark.parametrize(
    ("lookup", "value", "expected"),
    [
        ("contains", "50%", ["50% off"]),
        ("contains", "a_b", ["a_b"]),
        ("contains", "\\", ["back\\slash"]),
        ("startswith", "%", []),
        ("icontains", "_B", ["a_b"]),
        ("endswith", "%", []),
        ("endswith", "off", ["50% off", "500 off"]),
    ],
)
def test_pattern_lookups_escape_wildcards(
    db: str, lookup: str, value: str, expected: list[str]
) -> None:
    author = Author.objects.create(name="W", email="w@example.com")
    for title in ("50% off", "500 off", "a_b", "axb", "back\\slash"):
        Book.objects.create(title=title, author=author)
    assert titles(Book.objects.filter(**{f"title__{lookup}": value})) == expected


def test_in_lookup_with_empty_list_and_generators(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    with count_queries() as ctx:
        assert list(Book.objects.filter(title__in=[])) == []
    assert len(ctx) == 0
    assert titles(Book.objects.filter(pk__in=(b.pk for b in [library.sql101]))) == ["SQL 101"]
    assert Book.objects.exclude(title__in=[]).count() == 4


def test_in_lookup_with_none_in_list(library: Library) -> None:
    assert titles(Book.objects.filter(pages__in=[None, 200])) == ["Python Basics"]


def test_isnull(library: Library) -> None:
    assert titles(Book.objects.filter(pages__isnull=True)) == ["SQL 101"]
    assert len(titles(Book.objects.filter(pages__isnull=False))) == 3
    assert titles(Book.objects.filter(published=None)) == ["SQL 101"]
    assert [a.name for a in Author.objects.filter(books__isnull=True)] == ["Carol"]


def test_exact_none_is_isnull(library: Library) -> None:
    assert titles(Book.objects.filter(pages=None)) == ["SQL 101"]
    assert len(titles(Book.objects.exclude(pages=None))) == 3


# ------------------------------------------------------------------ numbers


def test_numeric_lookups(library: Library) -> None:
    assert titles(Book.objects.filter(pages__gt=200)) == ["Advanced Python", "Django Unchained"]
    assert titles(Book.objects.filter(pages__gte=300)) == ["Advanced Python", "Django Unchained"]
    assert titles(Book.objects.filter(pages__lt=300)) == ["Python Basics"]
    assert titles(Book.objects.filter(pages__lte=300)) == ["Django Unchained", "Python Basics"]
    assert titles(Book.objects.filter(pages__range=(200, 300))) == [
        "Django Unchained",
        "Python Basics",
    ]
    assert titles(Book.objects.filter(price__range=(Decimal("9.99"), Decimal("20")))) == [
        "Python Basics",
        "SQL 101",
    ]
    assert titles(Book.objects.filter(price__in=[Decimal("9.99"), Decimal("49.5")])) == [
        "Advanced Python",
        "SQL 101",
    ]
    assert titles(Book.objects.filter(pages__in=[200, 450])) == ["Advanced Python", "Python Basics"]


def test_numeric_lookup_with_string_value_is_coerced(library: Library) -> None:
    assert titles(Book.objects.filter(pages="200")) == ["Python Basics"]
    with pytest.raises(ValueError):
        list(Book.objects.filter(pages="two hundred"))


# -------------------------------------------------------------------- dates


def test_date_parts_on_date_field(library: Library) -> None:
    assert titles(Book.objects.filter(published__year=2021)) == ["Advanced Python"]
    assert titles(Book.objects.filter(published__year__gte=2021)) == [
        "Advanced Python",
        "Django Unchained",
    ]
    assert titles(Book.objects.filter(published__month=1)) == ["Python Basics"]
    assert titles(Book.objects.filter(published__day=5)) == ["Django Unchained"]
    assert titles(Book.objects.filter(published__month__in=[6, 11])) == [
        "Advanced Python",
        "Django Unchained",
    ]
    assert titles(
        Book.objects.filter(
            published__range=(datetime.date(2020, 6, 1), datetime.date(2021, 12, 31))
        )
    ) == [
        "Advanced Python",
    ]
    assert titles(Book.objects.filter(published__gt="2021-01-01")) == [
        "Advanced Python",
        "Django Unchained",
    ]


def test_date_lookups_on_datetime_field_use_utc(db: str) -> None:
    AllFields.objects.create(
        char_value="late", datetime_value=datetime.datetime(2024, 1, 31, 23, 30, tzinfo=UTC)
    )
    # 2024-02-01 01:00 at +05:30 is 2024-01-31 19:30 UTC
    AllFields.objects.create(
        char_value="local",
        datetime_value=datetime.datetime(
            2024, 2, 1, 1, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
        ),
    )
    AllFields.objects.create(
        char_value="march", datetime_value=datetime.datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    )

    def names(**kwargs: object) -> list[str]:
        return sorted(AllFields.objects.filter(**kwargs).values_list("char_value", flat=True))

    assert names(datetime_value__date=datetime.date(2024, 1, 31)) == ["late", "local"]
    assert names(datetime_value__year=2024) == ["late", "local", "march"]
    assert names(datetime_value__month=1) == ["late", "local"]
    assert names(datetime_value__month=3) == ["march"]
    assert names(datetime_value__day=1) == ["march"]
    assert names(datetime_value__date__gte=datetime.date(2024, 2, 1)) == ["march"]


def test_auto_now_add_date_lookup(db: str) -> None:
    author = Author.objects.create(name="Today", email="t@example.com")
    today = author.created.date()
    assert Author.objects.filter(created__date=today).get() == author
    assert Author.objects.filter(created__year=today.year, created__month=today.month).count() == 1


# ----------------------------------------------------------- other field types


def test_lookups_on_boolean_uuid_and_duration(db: str) -> None:
    import uuid

    u = uuid.uuid4()
    AllFields.objects.create(
        bool_value=True, uuid_value=u, duration_value=datetime.timedelta(hours=2)
    )
    AllFields.objects.create(bool_value=False, duration_value=datetime.timedelta(minutes=5))
    assert AllFields.objects.filter(bool_value=True).get().uuid_value == u
    assert AllFields.objects.filter(uuid_value__in=[u, uuid.uuid4()]).count() == 1
    assert (
        AllFields.objects.filter(duration_value__gt=datetime.timedelta(hours=1)).get().uuid_value
        == u
    )
    assert AllFields.objects.filter(uuid_value__isnull=True).get().bool_value is False


# -------------------------------------------------------- across relations


def test_lookups_across_forward_relation(library: Library) -> None:
    assert titles(Book.objects.filter(author__name__startswith="A")) == [
        "Advanced Python",
        "Python Basics",
    ]
    assert titles(
        Book.objects.filter(author__email__iendswith="@EXAMPLE.COM", author__name="Bob")
    ) == [
        "Django Unchained",
        "SQL 101",
    ]
    assert titles(Book.objects.filter(author__name__in=["Bob"])) == ["Django Unchained", "SQL 101"]


def test_lookups_across_reverse_relation(library: Library) -> None:
    assert [a.name for a in Author.objects.filter(books__title__icontains="django")] == ["Bob"]
    assert [a.name for a in Author.objects.filter(books__price__gt=40)] == ["Alice"]
    assert [a.name for a in Author.objects.exclude(books__price__gt=40)] == ["Bob", "Carol"]


def test_lookups_across_many_to_many(library: Library) -> None:
    assert titles(Book.objects.filter(tags__name="sql")) == ["Advanced Python", "SQL 101"]
    assert titles(Book.objects.filter(tags__name__in=["django", "sql"]).distinct()) == [
        "Advanced Python",
        "Django Unchained",
        "SQL 101",
    ]
    assert sorted(
        Tag.objects.filter(books__author__name="Bob").distinct().values_list("name", flat=True)
    ) == [
        "django",
        "python",
        "sql",
    ]
    assert titles(Book.objects.exclude(tags__name="python")) == ["SQL 101"]
    assert titles(Book.objects.filter(tags=library.django)) == ["Django Unchained"]
    assert titles(Book.objects.filter(tags__in=[library.django, library.sql]).distinct()) == [
        "Advanced Python",
        "Django Unchained",
        "SQL 101",
    ]


def test_chained_filters_on_multivalued_relation_join_separately(library: Library) -> None:
    # One filter(): the same tag must satisfy both conditions (none does).
    assert titles(Book.objects.filter(tags__name="django", tags__name__startswith="s")) == []
    # Chained filter(): each condition may match a different tag (Django's documented rule).
    assert titles(Book.objects.filter(tags__name="python").filter(tags__name="sql")) == [
        "Advanced Python",
    ]


def test_two_level_relation_lookup(library: Library) -> None:
    assert sorted(
        Tag.objects.filter(books__author__email="alice@example.com")
        .distinct()
        .values_list("name", flat=True)
    ) == ["python", "sql"]


# -------------------------------------------------------------------- JSON


def test_json_key_lookups(library: Library) -> None:
    assert titles(Book.objects.filter(data__level="advanced")) == ["Advanced Python"]
    assert titles(Book.objects.filter(data__rating__gte=4)) == ["Advanced Python", "Python Basics"]
    assert titles(Book.objects.filter(data__rating__lt=4)) == ["Django Unchained"]
    assert titles(Book.objects.filter(data__meta__isbn="222")) == ["Advanced Python"]
    assert titles(Book.objects.filter(data__langs__0="en")) == ["Advanced Python", "Python Basics"]
    assert titles(Book.objects.filter(data__langs__1="de")) == ["Python Basics"]
    assert titles(Book.objects.filter(data__level__in=["beginner", "intermediate"])) == [
        "Django Unchained",
        "Python Basics",
    ]
    assert titles(Book.objects.filter(data__level__startswith="adv")) == ["Advanced Python"]
    assert titles(Book.objects.filter(data__level__icontains="INTER")) == ["Django Unchained"]


def test_json_key_isnull_and_missing_keys(library: Library) -> None:
    assert titles(Book.objects.filter(data__meta__isnull=True)) == ["Django Unchained", "SQL 101"]
    assert titles(Book.objects.filter(data__meta__isnull=False)) == [
        "Advanced Python",
        "Python Basics",
    ]
    assert titles(Book.objects.filter(data__isnull=True)) == ["SQL 101"]
    assert titles(Book.objects.filter(data__nope="x")) == []


def test_json_nested_object_and_array_values(library: Library) -> None:
    assert titles(Book.objects.filter(data__meta={"isbn": "111"})) == ["Python Basics"]
    assert titles(Book.objects.filter(data__langs=["en"])) == ["Advanced Python"]


def test_json_key_lookup_across_relation(library: Library) -> None:
    assert [a.name for a in Author.objects.filter(books__data__level="intermediate")] == ["Bob"]


def test_json_key_values_and_order_by(library: Library) -> None:
    rows = list(
        Book.objects.filter(data__isnull=False)
        .order_by("data__rating")
        .values_list("title", "data__level")
    )
    assert rows == [
        ("Django Unchained", "intermediate"),
        ("Python Basics", "beginner"),
        ("Advanced Python", "advanced"),
    ]
    rows = list(
        Book.objects.filter(data__isnull=False).order_by("-data__rating").values("data__meta")
    )
    assert rows[0] == {"data__meta": {"isbn": "222"}}


def test_json_boolean_and_null_values(db: str) -> None:
    AllFields.objects.create(char_value="t", json_value={"flag": True, "n": None, "num": 1})
    AllFields.objects.create(char_value="f", json_value={"flag": False, "num": 0})
    AllFields.objects.create(char_value="one", json_value={"flag": 1})

    def names(**kwargs: object) -> list[str]:
        return sorted(AllFields.objects.filter(**kwargs).values_list("char_value", flat=True))

    assert names(json_value__flag=True) == ["t"]
    assert names(json_value__flag=False) == ["f"]
    assert names(json_value__num=1) == ["t"]
    assert names(json_value__num=0) == ["f"]


def test_json_hostile_key_is_a_parameter(
    library: Library, count_queries: type[QueryCounter]
) -> None:
    key = "k' = '\"a\"') OR 1 = 1 OR ('d"
    with count_queries() as ctx:
        assert list(Book.objects.filter(**{f"data__{key}": "x"})) == []
    sql = ctx.queries[0][0]
    assert key not in sql
    assert "OR 1 = 1" not in sql


def test_json_special_keys_round_trip_and_filter(db: str) -> None:
    doc = {"%total": 10, "it's": 1, 'quo"te': 2, "back\\slash": 3, "0": "zero", "dotted.key": 4}
    AllFields.objects.create(json_value=doc)
    assert AllFields.objects.get().json_value == doc
    for key, value in doc.items():
        if key == "0":
            continue  # an integer key is an array index, as in Django
        assert AllFields.objects.filter(**{f"json_value__{key}": value}).count() == 1, key


# ----------------------------------------------------------- unknown lookups


def test_unknown_lookup_raises_field_error_listing_choices(library: Library) -> None:
    with pytest.raises(orm.FieldError) as excinfo:
        Book.objects.filter(title__containz="x")
    assert "contains" in str(excinfo.value)
    with pytest.raises(orm.FieldError):
        Book.objects.filter(author__nonexistent="x")


def test_pk_and_related_pk_shortcuts(library: Library) -> None:
    assert Book.objects.get(pk=library.basics.pk) == library.basics
    assert titles(Book.objects.filter(pk__in=[library.basics.pk, library.sql101.pk])) == [
        "Python Basics",
        "SQL 101",
    ]
    assert titles(Book.objects.filter(author__pk__gt=library.alice.pk)) == [
        "Django Unchained",
        "SQL 101",
    ]
    assert titles(Book.objects.filter(pk__gte=library.unchained.pk)) == [
        "Django Unchained",
        "SQL 101",
    ]


def test_choices_field_lookup(db: str) -> None:
    Article.objects.create(headline="a", slug="a", status="p")
    Article.objects.create(headline="b", slug="b")
    assert list(Article.objects.filter(status="p").values_list("headline", flat=True)) == ["a"]


# ------------------------------------------------------------ once broken


def test_json_key_with_double_quote(db: str) -> None:
    AllFields.objects.create(json_value={'quo"te': 2})
    # Expected: the row (or a clear NotSupportedError); actual on SQLite: 0 rows, silently.
    assert AllFields.objects.filter(**{'json_value__quo"te': 2}).count() == 1
