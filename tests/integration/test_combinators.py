"""Combined QuerySets (``union``, ``intersection``, ``difference``) behave as in Django 5.2.

Issue 11 follow-up: after ``union()`` the calls Django cannot apply to a
combined query (``filter()``, ``annotate()``, ``get(**kwargs)``...) were
silently ignored, and ``values_list("num", flat=True)`` returned the ids.
Every operation Django refuses must raise its ``NotSupportedError`` (same
message), and every one it supports must return Django's rows, on both
backends, through the sync methods and their ``a`` twins alike.

Where Django 5.2 itself fails or answers wrongly (noted at each test), ``orm``
returns the correct rows or raises a clear error, the same on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import orm
from orm import F, OuterRef, Q, Subquery, Sum, Value
from tests.conftest import QueryCounter


class Number(orm.Model):
    num = orm.IntegerField()
    other_num = orm.IntegerField(null=True)

    class Meta:
        app_label = "i11_combinators"


class Label(orm.Model):
    name = orm.CharField(max_length=20)
    order = orm.IntegerField()  # a reserved word as a column name

    class Meta:
        app_label = "i11_combinators"


class Celebrity(orm.Model):
    name = orm.CharField(max_length=20)

    class Meta:
        app_label = "i11_combinators"


class Agency(orm.Model):
    info = orm.CharField(max_length=20)

    class Meta:
        app_label = "i11_combinators"


class Person(orm.Model):
    name = orm.CharField(max_length=20)
    num = orm.IntegerField()
    agency = orm.ForeignKey(Agency, on_delete=orm.CASCADE, related_name="people")

    class Meta:
        app_label = "i11_combinators"


COMBINATORS = ["union", "intersection", "difference"]
NOT_SUPPORTED = [
    "alias",
    "annotate",
    "defer",
    "delete",
    "distinct",
    "exclude",
    "filter",
    "only",
    "prefetch_related",
    "select_related",
    "update",
]


@pytest.fixture
def numbers(backend: str) -> str:
    """Numbers 0-9 (``other_num`` = 10 - num), three labels, two celebrities, three people."""
    orm.create_tables(Number, Label, Celebrity, Agency, Person)
    Number.objects.bulk_create([Number(num=i, other_num=10 - i) for i in range(10)])
    for name, order in [("a", 2), ("b", 5), ("c", 7)]:
        Label.objects.create(name=name, order=order)
    Celebrity.objects.create(name="Famous")
    Celebrity.objects.create(name="Very famous")
    east, west = Agency.objects.create(info="east"), Agency.objects.create(info="west")
    Person.objects.create(name="p1", num=1, agency=west)
    Person.objects.create(name="p2", num=3, agency=east)
    Person.objects.create(name="p3", num=2, agency=west)
    return backend


def combined(combinator: str) -> orm.QuerySet[Number]:
    """num <= 5 combined with num >= 4: union 0-9, intersection 4-5, difference 0-3."""
    qs1, qs2 = Number.objects.filter(num__lte=5), Number.objects.filter(num__gte=4)
    return getattr(qs1, combinator)(qs2)  # type: ignore[no-any-return]


EXPECTED = {"union": list(range(10)), "intersection": [4, 5], "difference": [0, 1, 2, 3]}


def nums(qs: Any) -> list[int]:
    return sorted(n.num for n in qs)


# ----------------------------------------------------------- what raises, as in Django


@pytest.mark.parametrize("combinator", COMBINATORS)
@pytest.mark.parametrize("operation", NOT_SUPPORTED)
def test_operations_django_cannot_apply_raise(
    numbers: str, combinator: str, operation: str
) -> None:
    msg = f"Calling QuerySet.{operation}() after {combinator}() is not supported."
    with pytest.raises(orm.NotSupportedError) as info:
        getattr(combined(combinator), operation)()
    assert str(info.value) == msg


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_calls_with_arguments_raise_instead_of_being_ignored(numbers: str, combinator: str) -> None:
    qs = combined(combinator)
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("filter", lambda: qs.filter(num=1)),
        ("filter", lambda: qs.filter(Q(num=1))),
        ("exclude", lambda: qs.exclude(num=1)),
        ("annotate", lambda: qs.annotate(x=Value(1))),
        ("annotate", lambda: qs.values(x=F("num"))),  # values() with expressions annotates
        ("alias", lambda: qs.alias(x=Value(1))),
        ("distinct", lambda: qs.distinct("num")),
        ("defer", lambda: qs.defer("num")),
        ("only", lambda: qs.only("num")),
        ("select_related", lambda: qs.select_related(None)),
        ("prefetch_related", lambda: qs.prefetch_related(None)),
        ("update", lambda: qs.update(num=5)),
        ("delete", lambda: qs.delete()),
        ("contains", lambda: qs.contains(Number.objects.get(num=4))),
        ("filter", lambda: qs.in_bulk([1, 2])),  # in_bulk(ids) filters, as in Django
        ("filter", lambda: qs[:2].filter(num=1)),
    ]
    for operation, call in calls:
        with pytest.raises(
            orm.NotSupportedError,
            match=rf"^Calling QuerySet\.{operation}\(\) after {combinator}\(\)",
        ):
            call()
    assert Number.objects.filter(num=5).exists()  # nothing was updated or deleted
    assert Number.objects.count() == 10


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_get_with_filters_raises(numbers: str, combinator: str) -> None:
    msg = f"Calling QuerySet.get(...) with filters after {combinator}() is not supported."
    for call in (
        lambda: combined(combinator).get(num=4),
        lambda: combined(combinator).get(Q(num=4)),
        lambda: combined(combinator).get_or_create(num=4),
    ):
        with pytest.raises(orm.NotSupportedError) as info:
            call()
        assert str(info.value) == msg


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_set_operators_on_a_combined_queryset_raise(numbers: str, combinator: str) -> None:
    plain = Number.objects.all()
    for symbol, apply in (
        ("&", lambda a, b: a & b),
        ("|", lambda a, b: a | b),
        ("^", lambda a, b: a ^ b),
    ):
        for left, right in ((combined(combinator), plain), (plain, combined(combinator))):
            with pytest.raises(TypeError) as info:
                apply(left, right)
            assert str(info.value) == f"Cannot use {symbol} operator with combined queryset."


def test_xor_of_two_querysets_keeps_the_rows_in_exactly_one(numbers: str) -> None:
    qs = Number.objects.filter(num__lte=5) ^ Number.objects.filter(num__gte=4)
    assert nums(qs) == [0, 1, 2, 3, 6, 7, 8, 9]


def test_a_combination_takes_querysets_only(numbers: str) -> None:
    with pytest.raises(TypeError, match="union\\(\\) takes QuerySets, got list"):
        Number.objects.union([1, 2])  # type: ignore[list-item]


# -------------------------------------------------------------- the rows, as in Django


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_rows_of_each_combinator(numbers: str, combinator: str) -> None:
    qs = combined(combinator)
    assert nums(qs) == EXPECTED[combinator]
    assert nums(qs.all()) == EXPECTED[combinator]
    assert nums(qs.iterator(chunk_size=1)) == EXPECTED[combinator]
    assert len(qs) == len(EXPECTED[combinator])
    assert bool(qs) is True


def test_the_issue_filter_and_values_list_after_union(numbers: str) -> None:
    qs1, qs2 = Number.objects.filter(num__lte=1), Number.objects.filter(num__gte=8)
    with pytest.raises(orm.NotSupportedError):
        qs1.union(qs2).filter(num=1)  # returned every row
    # values_list() after union() selects num in each query (it returned the ids).
    assert sorted(qs1.union(qs2).values_list("num", flat=True)) == [0, 1, 8, 9]
    assert sorted(qs1.union(qs2).values_list("other_num", flat=True)) == [1, 2, 9, 10]


def test_union_all_keeps_duplicates_and_more_querysets_combine(numbers: str) -> None:
    everything = Number.objects.all()
    assert len(list(everything.union(everything, all=True))) == 20
    assert everything.union(everything, all=True).count() == 20
    assert len(list(everything.union(everything))) == 10
    lo, hi, five = (
        Number.objects.filter(num__lte=1),
        Number.objects.filter(num__gte=8),
        Number.objects.filter(num=5),
    )
    assert nums(lo.union(hi, five)) == [0, 1, 5, 8, 9]
    three = Number.objects.filter(num__gte=4, num__lte=6)
    assert nums(
        Number.objects.filter(num__lte=5).intersection(Number.objects.filter(num__gte=5), three)
    ) == [5]
    assert nums(Number.objects.all().difference(lo, hi)) == [2, 3, 4, 5, 6, 7]


def test_nested_combinations(numbers: str) -> None:
    lo, hi = Number.objects.filter(num__lte=1), Number.objects.filter(num__gte=8)
    upto5 = Number.objects.filter(num__lte=5)
    assert nums(upto5.union(lo.union(hi))) == [0, 1, 2, 3, 4, 5, 8, 9]
    assert nums(upto5.intersection(lo.union(hi))) == [0, 1]
    assert nums(upto5.difference(lo.union(hi))) == [2, 3, 4, 5]
    assert nums(lo.union(hi).difference(upto5)) == [8, 9]
    # An ordered or sliced inner combination keeps its own ordering and slice.
    assert nums(upto5.union(lo.union(hi).order_by("num")[:3])) == [0, 1, 2, 3, 4, 5, 8]
    assert (
        Number.objects.all()
        .difference(Number.objects.intersection(Number.objects.filter(num__gt=1)))
        .count()
        == 2
    )


def test_empty_querysets_follow_django(numbers: str, count_queries: type[QueryCounter]) -> None:
    lo, hi, none = (
        Number.objects.filter(num__lte=1),
        Number.objects.filter(num__gte=8),
        Number.objects.none(),
    )
    never = Number.objects.filter(pk__in=[])
    assert nums(lo.union(none)) == [0, 1]
    assert nums(none.union(lo, hi)) == [0, 1, 8, 9]
    assert nums(never.union(lo)) == [0, 1]
    assert nums(lo.difference(none)) == [0, 1]
    assert nums(lo.difference(never)) == [0, 1]
    # union() of an empty QuerySet with one other is that other, not a combination.
    assert nums(none.union(lo).filter(num=1)) == [1]
    assert none.union(lo).query.combinator is None
    assert lo.union().query.combinator is None
    assert lo.intersection().query.combinator == "intersection"
    with count_queries() as ctx:
        assert list(lo.intersection(none)) == []
        assert list(none.intersection(lo)) == []
        assert list(none.difference(lo)) == []
        assert list(none.union(none)) == []
        assert list(lo.union(hi)[0:0]) == []
    assert len(ctx) == 0
    assert list(lo.intersection(never)) == []
    assert list(never.difference(lo)) == []


# ---------------------------------------------------------- values() and values_list()


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_values_apply_to_every_query(numbers: str, combinator: str) -> None:
    qs = combined(combinator)
    expected = EXPECTED[combinator]
    assert sorted(qs.values_list("num", flat=True)) == expected
    assert sorted(qs.values_list("other_num", flat=True)) == sorted(10 - n for n in expected)
    assert sorted(r["num"] for r in qs.values("num")) == expected
    rows = sorted(qs.values(), key=lambda r: r["num"])
    assert list(rows[0]) == ["id", "num", "other_num"]
    assert [r["num"] for r in rows] == expected
    named = sorted(qs.values_list("num", "other_num", named=True))
    assert [(r.num, r.other_num) for r in named] == [(n, 10 - n) for n in expected]
    assert sorted(qs.values_list("other_num", "num")) == sorted((10 - n, n) for n in expected)


def test_values_of_the_first_queryset_apply_to_the_others(numbers: str) -> None:
    # The union's columns are the first QuerySet's: a QuerySet without values()
    # of its own selects them too.
    qs = (
        Number.objects.filter(num__lte=2)
        .values_list("num")
        .union(Number.objects.filter(num__gte=8))
    )
    assert sorted(qs) == [(0,), (1,), (2,), (8,), (9,)]
    same = Number.objects.values("num").union(Number.objects.values("num")).values("num")
    assert sorted(r["num"] for r in same) == list(range(10))


def test_values_naming_other_columns_than_the_first_querysets_are_refused(numbers: str) -> None:
    # Django puts num's values under 'other_num' here (or fails in the database).
    qs = Number.objects.values_list("num", "other_num").union(
        Number.objects.values_list("num", "other_num")
    )
    with pytest.raises(orm.FieldError, match=r"its first QuerySet selects \('num', 'other_num'\)"):
        qs.values_list("other_num", flat=True)
    with pytest.raises(orm.FieldError, match="Name those columns"):
        Number.objects.values("num").union(Number.objects.values("num")).values()


def test_union_of_different_models_with_values_list(numbers: str) -> None:
    # The column names of the first QuerySet name the result, as in Django.
    qs = (
        Number.objects.filter(num__lte=1)
        .values_list("num", flat=True)
        .union(Label.objects.values_list("order"))
    )
    assert sorted(qs) == [0, 1, 2, 5, 7]
    assert list(qs.order_by("-num")) == [7, 5, 2, 1, 0]
    names = Celebrity.objects.all().union(Label.objects.all()).values_list("name", flat=True)
    assert sorted(names) == ["Famous", "Very famous", "a", "b", "c"]
    assert list(
        Celebrity.objects.values_list("name")
        .union(Label.objects.values_list("name"))
        .order_by("-name")
    ) == [("c",), ("b",), ("a",), ("Very famous",), ("Famous",)]
    pks = (
        Celebrity.objects.all()
        .union(Label.objects.all())
        .order_by("name")
        .values_list("pk", flat=True)
    )
    assert list(pks) == [1, 2, 1, 2, 3]


def test_annotations_are_matched_column_by_column(numbers: str) -> None:
    # Each QuerySet selects its values_list() columns in the order named,
    # annotations included, so the union lines them up as Django does.
    labels = Label.objects.annotate(kind=Value("label")).values_list("name", "order", "kind")
    stars = Celebrity.objects.annotate(kind=Value("star"), order=Value(-10)).values_list(
        "name", "order", "kind"
    )
    assert list(labels.union(stars).order_by("order", "name")) == [
        ("Famous", -10, "star"),
        ("Very famous", -10, "star"),
        ("a", 2, "label"),
        ("b", 5, "label"),
        ("c", 7, "label"),
    ]
    qs1 = Number.objects.filter(num=1).annotate(zero=Value(0)).values_list("num", "zero")
    qs2 = Number.objects.filter(num=2).annotate(zero=Value(0)).values_list("zero", "num")
    assert sorted(qs1.union(qs2)) == [(0, 2), (1, 0)]


def test_model_rows_keep_the_first_querysets_annotations(numbers: str) -> None:
    one = Number.objects.filter(num__lte=1)
    rows = one.annotate(a=Value(1)).union(one.annotate(a=Value(2))).order_by("-a", "num")
    assert [(n.num, n.a) for n in rows] == [(0, 2), (1, 2), (0, 1), (1, 1)]


def test_select_related_of_the_querysets_loads_the_relation(numbers: str) -> None:
    base = Person.objects.select_related("agency")
    qs = base.filter(name="p1").union(base.filter(name__in=["p1", "p2"])).order_by("pk")
    assert [(p.name, p.agency.info) for p in qs] == [("p1", "west"), ("p2", "east")]
    assert base.union(base).count() == 3


# --------------------------------------------------------------------------- ordering


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_order_by_selected_columns(numbers: str, combinator: str) -> None:
    qs = combined(combinator)
    desc = sorted(EXPECTED[combinator], reverse=True)
    assert [n.num for n in qs.order_by("-num")] == desc
    assert [n.num for n in qs.order_by("other_num")] == desc
    assert [n.num for n in qs.order_by(F("num").desc())] == desc
    assert [n.num for n in qs.order_by("pk")] == sorted(desc)
    assert [n.num for n in qs.order_by("num").reverse()] == desc
    assert list(qs.values_list("num", flat=True).order_by("-num")) == desc
    assert list(qs.order_by("-num").values_list("num", flat=True)) == desc
    assert [n.num for n in qs.order_by("num")[1:3]] == sorted(desc)[1:3]
    assert qs.order_by("num")[1].num == sorted(desc)[1]


def test_order_by_nulls_first_and_last(numbers: str) -> None:
    Number.objects.filter(num=5).update(other_num=None)
    qs = Number.objects.filter(num__lte=1).union(Number.objects.filter(num__gte=4))
    last = qs.order_by(F("other_num").asc(nulls_last=True)).values_list("other_num", flat=True)
    assert list(last) == [1, 2, 3, 4, 6, 9, 10, None]
    assert list(last.reverse()) == [None, 10, 9, 6, 4, 3, 2, 1]
    first = qs.order_by(F("other_num").asc(nulls_first=True)).values_list("other_num", flat=True)
    assert list(first) == [None, 1, 2, 3, 4, 6, 9, 10]


def test_order_by_alias_of_values(numbers: str) -> None:
    qs1 = Number.objects.filter(num__lte=1).values(alias=F("num"))
    qs2 = Number.objects.filter(num__gte=2, num__lte=3).values(alias=F("num"))
    assert [r["alias"] for r in qs1.union(qs2).order_by("-alias")] == [3, 2, 1, 0]
    assert [r["alias"] for r in qs1.union(qs2).order_by(F("alias"))] == [0, 1, 2, 3]


def test_order_by_a_column_the_union_does_not_return(numbers: str) -> None:
    # As in Django, each query selects the ordering column too; unlike Django,
    # it never shows up in the rows.
    Label.objects.all().delete()
    for name, order in [("rn1", 7), ("rn2", 5), ("rn0", 6), ("rn9", -1)]:
        Label.objects.create(name=name, order=order)
    union = Label.objects.filter(order__gte=6).union(Label.objects.filter(order__lte=5))
    assert list(union.order_by("-pk").values_list("order", flat=True)) == [-1, 6, 5, 7]
    assert list(union.values_list("order", flat=True).order_by("pk")) == [7, 5, 6, -1]
    assert list(union.order_by("-name", "pk").values_list("order", flat=True)) == [-1, 5, 7, 6]
    assert list(union.values_list("order").order_by("-name")) == [(-1,), (5,), (7,), (6,)]
    assert [r for r in union.values("order").order_by("name")] == [
        {"order": 6},
        {"order": 7},
        {"order": 5},
        {"order": -1},
    ]
    assert list(union.values_list("order", flat=True).order_by("name").iterator(chunk_size=1)) == [
        6,
        7,
        5,
        -1,
    ]
    people = Person.objects.all().union(Person.objects.all()).order_by("agency__info", "-num")
    assert [p.name for p in people] == ["p2", "p3", "p1"]
    assert all(not k.startswith("__orderbycol") for p in people for k in vars(p))


def test_order_by_annotations_and_expressions(numbers: str) -> None:
    qs1 = Number.objects.annotate(a=Value(-1), m=F("a")).filter(num__gte=6)
    qs2 = Number.objects.annotate(a=Value(2), m=F("a")).filter(num__lte=5)
    ordered = qs1.union(qs2).order_by("a", "num")
    assert list(ordered.values_list("num", flat=True)) == [6, 7, 8, 9, 0, 1, 2, 3, 4, 5]
    by_product = qs1.union(qs2).order_by(F("a") * F("m"), "num").values("num")
    assert [r["num"] for r in by_product] == [6, 7, 8, 9, 0, 1, 2, 3, 4, 5]  # 1 before 4
    # Django 5.2 fails with a TypeError here; the expression orders the rows.
    lo = Number.objects.filter(num__lte=2)
    assert [n.num for n in lo.union(lo).order_by((F("num") * -1).asc())] == [2, 1, 0]


def test_ordering_errors_match_django(numbers: str) -> None:
    qs1 = Number.objects.annotate(annotation=Value(1)).values("annotation", num2=F("num"))
    qs2 = Number.objects.values("id", "num")
    # (1, 0) is in both: 19 distinct rows, whatever the ordering.
    assert len(list(qs1.union(qs2).order_by("annotation"))) == 19
    assert [r["num2"] for r in qs1.union(qs2).order_by("num2")][:3] == [0, 1, 1]
    assert [r["num"] for r in qs2.union(qs1).order_by("-num")][:3] == [9, 9, 8]
    # 'id' is not selected; 'num' was renamed to 'num2' in the first query.
    for term in ("id", "num", F("num"), F("num").desc()):
        with pytest.raises(orm.DatabaseError) as info:
            list(qs1.union(qs2).order_by(term))
        assert str(info.value) == "ORDER BY term does not match any column in the result set."
    annotated = Number.objects.annotate(a=Value(1))
    with pytest.raises(
        NotImplementedError, match="Ordering combined queries by transforms is not implemented."
    ):
        list(annotated.union(annotated).order_by("a__abs"))
    with pytest.raises(
        orm.FieldError,
        match="Cannot resolve keyword 'abs' into field. Join on 'num' not permitted.",
    ):
        list(Number.objects.union(Number.objects.all()).order_by("num__abs"))
    with pytest.raises(orm.FieldError, match="Cannot resolve keyword 'nope' into field"):
        Number.objects.union(Number.objects.all()).order_by("nope")
    with pytest.raises(orm.NotSupportedError, match="Random ordering"):
        list(Number.objects.union(Number.objects.all()).order_by("?"))
    with pytest.raises(TypeError, match="Cannot reorder a query once a slice has been taken."):
        Number.objects.union(Number.objects.all())[:2].order_by("num")


# -------------------------------------------- count, exists, get, first, last, slices


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_methods_that_run_the_query(numbers: str, combinator: str) -> None:
    qs = combined(combinator)
    expected = EXPECTED[combinator]
    assert qs.count() == len(expected)
    assert qs.exists() is True
    assert qs.first().num == expected[0]  # type: ignore[union-attr]
    assert qs.last().num == expected[-1]  # type: ignore[union-attr]
    assert qs.order_by("-num").first().num == expected[-1]  # type: ignore[union-attr]
    assert qs.order_by("-num").last().num == expected[0]  # type: ignore[union-attr]
    assert qs.latest("num").num == expected[-1]
    assert qs.earliest("num").num == expected[0]
    assert sorted(qs.in_bulk()) == sorted(Number.objects.get(num=n).pk for n in expected)
    assert qs.order_by("num")[:2].count() == 2  # Django 5.2: TypeError
    assert qs.values("other_num").count() == len(expected)
    with pytest.raises(Number.MultipleObjectsReturned, match=f"it returned {len(expected)}!"):
        qs.get()


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_get_without_filters(numbers: str, combinator: str) -> None:
    four, everything = Number.objects.filter(num=4), Number.objects.all()
    one = {
        "union": four.union(four),
        "intersection": everything.intersection(four),
        "difference": everything.difference(Number.objects.exclude(num=2)),
    }[combinator]
    expected = 2 if combinator == "difference" else 4
    assert one.get().num == expected
    assert one.values("num").get() == {"num": expected}
    assert one.values_list("num", "other_num").get() == (expected, 10 - expected)
    nothing = getattr(Number.objects.filter(num=100), combinator)(Number.objects.filter(num=100))
    with pytest.raises(Number.DoesNotExist, match="Number matching query does not exist."):
        nothing.get()


def test_exists_and_count_of_sliced_and_empty_combinations(numbers: str) -> None:
    lo, hi = Number.objects.filter(num__lte=1), Number.objects.filter(num__gte=8)
    union = lo.union(hi)
    assert union.exists() is True
    assert union.order_by("num")[3:].exists() is True  # Django 5.2: False
    assert union.order_by("num")[4:].exists() is False
    assert union.order_by("num")[1:].count() == 3
    never = Number.objects.filter(pk__in=[])
    assert never.union(never).exists() is False
    assert never.union(never).count() == 0
    assert (
        Number.objects.filter(num__gte=5).difference(Number.objects.filter(num__gte=3)).exists()
        is False
    )
    assert (
        Number.objects.filter(num__gte=3).difference(Number.objects.filter(num__gte=5)).exists()
        is True
    )
    assert (
        Number.objects.filter(num__gt=5).intersection(Number.objects.filter(num__lt=5)).exists()
        is False
    )
    distinct_sliced = Number.objects.distinct().order_by("num")[:1]
    assert Number.objects.filter(num=1).union(distinct_sliced).exists() is True
    assert Number.objects.filter(num=1).union(distinct_sliced).count() == 2


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_aggregate_over_the_combined_rows(numbers: str, combinator: str) -> None:
    # Django 5.2 refers to a column the combination does not have: an error on
    # PostgreSQL, a silently wrong total on SQLite.
    qs = combined(combinator)
    total = sum(EXPECTED[combinator])
    assert qs.aggregate(s=Sum("num")) == {"s": total}
    assert qs.values("num").aggregate(s=Sum("num"), n=orm.Count("*")) == {
        "s": total,
        "n": len(EXPECTED[combinator]),
    }
    above3 = [n for n in EXPECTED[combinator] if n > 3]
    assert qs.aggregate(s=Sum("num", filter=Q(num__gt=3))) == {"s": sum(above3) if above3 else None}
    with pytest.raises(orm.FieldError, match="'other_num' is not one of them"):
        qs.values("num").aggregate(s=Sum("other_num"))


@pytest.mark.parametrize("combinator", COMBINATORS)
def test_column_count_mismatch_is_the_same_error_on_both_backends(
    numbers: str, combinator: str
) -> None:
    # Django raises the database's error: OperationalError on SQLite,
    # ProgrammingError on PostgreSQL. orm checks before running any SQL.
    one, two = Number.objects.values_list("num"), Number.objects.values_list("num", "other_num")
    other_model = getattr(Number.objects.all(), combinator)(Label.objects.values_list("order"))
    msg = f"Each query combined by {combinator}\\(\\) must select the same number of columns"
    for qs in (getattr(one, combinator)(two), other_model):
        with pytest.raises(orm.ProgrammingError, match=msg):
            list(qs)


# ------------------------------------------------------------------------- subqueries


def test_combinations_inside_other_queries(numbers: str) -> None:
    lo, hi = (
        Number.objects.filter(num__gt=7).order_by("num"),
        Number.objects.filter(num__lt=2).order_by("num"),
    )
    assert nums(Number.objects.exclude(id__in=lo.union(hi).values("id"))) == [2, 3, 4, 5, 6, 7]
    firsts = lo[:1].union(hi.order_by("-num")[:1])
    assert nums(Number.objects.exclude(id__in=firsts.values("id"))) == [0, 2, 3, 4, 5, 6, 7, 9]
    both = Number.objects.filter(num__lte=3).intersection(Number.objects.filter(num__gte=2))
    assert nums(Number.objects.filter(pk__in=both)) == [2, 3]
    Label.objects.all().delete()
    for name, order in [("rn1", 8), ("rn2", 1), ("rn3", 5)]:
        Label.objects.create(name=name, order=order)
    inner = Number.objects.filter(num__gt=7, num=OuterRef("order")).union(
        Number.objects.filter(num__lt=2, num=OuterRef("order"))
    )
    labelled = Label.objects.annotate(number=Subquery(inner.values("num"))).filter(
        number__isnull=False
    )
    assert sorted(labelled.values_list("order", flat=True)) == [1, 8]
    matching = Number.objects.filter(num=OuterRef("num")).difference(
        Number.objects.filter(num__gte=3)
    )
    assert sorted(Number.objects.filter(orm.Exists(matching)).values_list("num", flat=True)) == [
        0,
        1,
        2,
    ]


# ------------------------------------------------------------------------- async twins


@pytest.mark.parametrize("combinator", COMBINATORS)
async def test_async_twins_behave_like_the_sync_methods(numbers: str, combinator: str) -> None:
    qs = combined(combinator)
    expected = EXPECTED[combinator]
    assert await qs.acount() == len(expected)
    assert await qs.aexists() is True
    assert (await qs.afirst()).num == expected[0]  # type: ignore[union-attr]
    assert (await qs.alast()).num == expected[-1]  # type: ignore[union-attr]
    assert sorted([n.num async for n in qs]) == expected
    assert sorted([n.num async for n in qs.aiterator(chunk_size=1)]) == expected
    assert [n async for n in qs.values_list("num", flat=True).order_by("-num")] == expected[::-1]
    with pytest.raises(Number.MultipleObjectsReturned):
        await qs.aget()
    four = Number.objects.filter(num=4)
    single = getattr(four, combinator)(
        four if combinator != "difference" else Number.objects.none()
    )
    assert (await single.aget()).num == 4
    first = await Number.objects.aget(num=4)
    calls: list[tuple[Callable[[], Any], str]] = [
        (lambda: qs.aupdate(num=1), "update()"),
        (lambda: qs.adelete(), "delete()"),
        (lambda: qs.aget(num=4), "get(...) with filters"),
        (lambda: qs.acontains(first), "contains()"),
    ]
    for call, operation in calls:
        with pytest.raises(orm.NotSupportedError) as info:
            await call()
        assert (
            str(info.value)
            == f"Calling QuerySet.{operation} after {combinator}() is not supported."
        )
    assert await Number.objects.acount() == 10
