"""orm.functions on real databases: text, math and comparison functions give the same results on both."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import orm
from orm import F, Value
from orm import functions as fn


class Word(orm.Model):
    text = orm.CharField(max_length=40)
    note = orm.TextField(null=True)
    n = orm.IntegerField(null=True)
    x = orm.FloatField(null=True)
    price = orm.DecimalField(max_digits=8, decimal_places=2, null=True)

    class Meta:
        app_label = "functionstext"


@pytest.fixture
def words(backend: str) -> Iterator[str]:
    """Three rows: ``Ada`` (with values), ``  Grace  `` (padded) and ``Zed`` (NULLs)."""
    orm.create_tables(Word)
    Word.objects.create(text="Ada", note="math", n=3, x=2.25, price=Decimal("12.50"))
    Word.objects.create(text="  Grace  ", note="navy", n=-7, x=-0.5, price=Decimal("-3.75"))
    Word.objects.create(text="Zed")
    yield backend


def values(expression: Any) -> list[Any]:
    """``expression`` for each row, in ``id`` order."""
    return list(Word.objects.order_by("id").annotate(v=expression).values_list("v", flat=True))


def test_concat_joins_and_treats_null_as_empty(words: str) -> None:
    assert values(fn.Concat("text", Value("/"), "note")) == ["Ada/math", "  Grace  /navy", "Zed/"]
    assert values(fn.Concat("text", "n")) == ["Ada3", "  Grace  -7", "Zed"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (fn.Left("text", 2), ["Ad", "  ", "Ze"]),
        (fn.Right("text", 2), ["da", "  ", "ed"]),
        (fn.Right("text", 10), ["Ada", "  Grace  ", "Zed"]),
        (fn.Substr("text", 2, 2), ["da", " G", "ed"]),
        (fn.Substr("text", 2), ["da", " Grace  ", "ed"]),
        (fn.Length("note"), [4, 4, None]),
        (fn.Lower("text"), ["ada", "  grace  ", "zed"]),
        (fn.Upper("text"), ["ADA", "  GRACE  ", "ZED"]),
        (fn.Trim("text"), ["Ada", "Grace", "Zed"]),
        (fn.LTrim("text"), ["Ada", "Grace  ", "Zed"]),
        (fn.RTrim("text"), ["Ada", "  Grace", "Zed"]),
        (fn.LPad("text", 5, Value("*")), ["**Ada", "  Gra", "**Zed"]),
        (fn.RPad("text", 5, Value("*+")), ["Ada*+", "  Gra", "Zed*+"]),
        (fn.LPad("note", 6), ["  math", "  navy", None]),
        (fn.Repeat("note", 2), ["mathmath", "navynavy", None]),
        (fn.Replace("text", Value("a"), Value("4")), ["Ad4", "  Gr4ce  ", "Zed"]),
        (fn.Replace("text", Value("a")), ["Ad", "  Grce  ", "Zed"]),
        (fn.Reverse("note"), ["htam", "yvan", None]),
        (fn.StrIndex("text", Value("a")), [3, 5, 0]),
        (fn.Ord("text"), [65, 32, 90]),
        (fn.Chr(Value(77)), ["M", "M", "M"]),
        (
            fn.MD5("note"),
            [hashlib.md5(b"math").hexdigest(), hashlib.md5(b"navy").hexdigest(), None],
        ),
        (
            fn.SHA256("note"),
            [hashlib.sha256(b"math").hexdigest(), hashlib.sha256(b"navy").hexdigest(), None],
        ),
        (
            fn.SHA512("note"),
            [hashlib.sha512(b"math").hexdigest(), hashlib.sha512(b"navy").hexdigest(), None],
        ),
        (
            fn.SHA224("note"),
            [hashlib.sha224(b"math").hexdigest(), hashlib.sha224(b"navy").hexdigest(), None],
        ),
        (
            fn.SHA384("note"),
            [hashlib.sha384(b"math").hexdigest(), hashlib.sha384(b"navy").hexdigest(), None],
        ),
    ],
)
def test_text_functions(words: str, expression: Any, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_sha1_needs_pgcrypto_on_postgresql(words: str) -> None:
    if words == "postgresql":
        with orm.connection.cursor() as cursor:  # as in Django: digest() comes from pgcrypto
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
    assert values(fn.SHA1("note")) == [
        hashlib.sha1(b"math").hexdigest(),
        hashlib.sha1(b"navy").hexdigest(),
        None,
    ]


def test_functions_in_filters_and_ordering(words: str) -> None:
    assert list(
        Word.objects.filter(note__isnull=False)
        .annotate(r=fn.Reverse("note"))
        .order_by("r")
        .values_list("text", flat=True)
    ) == ["Ada", "  Grace  "]
    assert list(
        Word.objects.annotate(t=fn.Trim("text")).filter(t="Grace").values_list("n", flat=True)
    ) == [-7]
    Word.objects.filter(text="Zed").update(note=fn.Concat("text", Value("!")))
    assert Word.objects.get(text="Zed").note == "Zed!"


def test_collate_compares_under_the_named_collation(words: str) -> None:
    Word.objects.create(text="ada")
    case_blind = "nocase" if words == "sqlite" else "und-x-icu"
    if words == "postgresql":  # a nondeterministic ICU collation compares case-insensitively
        with orm.connection.cursor() as cursor:
            cursor.execute(
                "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
            )
        case_blind = "ci"
    matches = Word.objects.annotate(t=fn.Collate("text", case_blind)).filter(t="ADA")
    assert sorted(matches.values_list("text", flat=True)) == ["Ada", "ada"]
    binary = "BINARY" if words == "sqlite" else "C"
    assert list(Word.objects.annotate(t=fn.Collate("text", binary)).filter(t="ADA")) == []


# -- math -----------------------------------------------------------------------------


def close(actual: list[Any], expected: list[Any]) -> bool:
    return all(
        (a is None and e is None) or math.isclose(float(a), e, rel_tol=1e-9)
        for a, e in zip(actual, expected, strict=True)
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (fn.Abs("n"), [3, 7, None]),
        (fn.Ceil("x"), [3, 0, None]),
        (fn.Floor("x"), [2, -1, None]),
        (fn.Sign("n"), [1, -1, None]),
        (fn.Sqrt("n"), [math.sqrt(3), None, None]),
        (fn.Power("n", Value(2)), [9, 49, None]),
        (fn.Exp("x"), [math.exp(2.25), math.exp(-0.5), None]),
        (fn.Ln("x"), [math.log(2.25), None, None]),
        (fn.Log(Value(2), "x"), [math.log(2.25, 2), None, None]),
        (fn.Mod("n", Value(2)), [1, -1, None]),
        (fn.Sin("x"), [math.sin(2.25), math.sin(-0.5), None]),
        (fn.Cos("x"), [math.cos(2.25), math.cos(-0.5), None]),
        (fn.Tan("x"), [math.tan(2.25), math.tan(-0.5), None]),
        (fn.Cot("x"), [1 / math.tan(2.25), 1 / math.tan(-0.5), None]),
        (fn.ATan("x"), [math.atan(2.25), math.atan(-0.5), None]),
        (fn.ATan2("x", "n"), [math.atan2(2.25, 3), math.atan2(-0.5, -7), None]),
        (fn.Degrees("x"), [math.degrees(2.25), math.degrees(-0.5), None]),
        (fn.Radians("n"), [math.radians(3), math.radians(-7), None]),
        (fn.Round("x", 1), [2.3, -0.5, None]),
        (fn.Round("price", 1), [12.5, -3.8, None]),
        (fn.Round("x"), [2, -1, None]),
    ],
)
def test_math_functions(words: str, expression: Any, expected: list[Any]) -> None:
    rows = Word.objects.order_by("id").annotate(v=expression)
    if (
        expected[1] is None
    ):  # out of the function's domain: see test_math_domain_errors_raise_on_both
        rows = rows.exclude(text="  Grace  ")
        expected = [expected[0], expected[2]]
    assert close(list(rows.values_list("v", flat=True)), expected)


@pytest.mark.transactional  # a database error inside the test's transaction
def test_math_domain_errors_raise_on_both(words: str) -> None:
    with pytest.raises(orm.DataError):
        values(fn.Sqrt("n"))
    with pytest.raises(orm.DataError):
        values(fn.Ln("x"))


def test_round_half_away_from_zero_and_types(words: str) -> None:
    assert values(fn.Round(Value(Decimal("2.5")))) == [Decimal(3)] * 3
    rounded = values(fn.Round("price", 1))
    assert rounded[:2] == [Decimal("12.5"), Decimal("-3.8")]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (fn.Sign("n"), [1, -1, None]),  # PostgreSQL's SIGN of an integer is a double
        (fn.Ceil("n"), [3, -7, None]),
        (fn.Floor("n"), [3, -7, None]),
        (fn.Round("n"), [3, -7, None]),  # SQLite's ROUND is a REAL
        (fn.Abs("n"), [3, 7, None]),
        (fn.Ceil("x"), [3.0, 0.0, None]),  # SQLite's CEIL/FLOOR/SIGN give integers
        (fn.Floor("x"), [2.0, -1.0, None]),
        (fn.Sign("x"), [1.0, -1.0, None]),
        (fn.Mod("n", Value(2)), [1.0, -1.0, None]),  # PostgreSQL's MOD(int, int) is an integer
        (fn.Power("n", Value(2)), [9.0, 49.0, None]),
        (fn.Sign("price"), [Decimal("1.00"), Decimal("-1.00"), None]),
        (fn.Ceil("price"), [Decimal("13.00"), Decimal("-3.00"), None]),
    ],
)
def test_math_results_have_the_declared_type_on_both(
    words: str, expression: Any, expected: list[Any]
) -> None:
    """docs/queries.md: integers in, floats out; Abs, Ceil, Floor, Round, Sign keep the type."""
    got = values(expression)
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]


DECIMAL_MATH = [
    (fn.Sqrt("price"), lambda p: math.sqrt(p)),
    (fn.Exp(fn.Sign("price")), lambda p: math.exp(math.copysign(1, p))),
    (fn.Power("price", Value(2)), lambda p: p**2),
    (fn.Mod("price", Value(5)), lambda p: math.fmod(p, 5)),
    (fn.Cos("price"), math.cos),
    (fn.ATan2("price", Value(2)), lambda p: math.atan2(p, 2)),
    (fn.Degrees("price"), math.degrees),
]


@pytest.mark.parametrize(("expression", "compute"), DECIMAL_MATH)
def test_math_functions_of_decimals_give_decimals(
    words: str, expression: Any, compute: Any
) -> None:
    """A DecimalField argument gives a Decimal (15 places) on both, not a TypeError or a float."""
    got = list(
        Word.objects.order_by("id")
        .filter(price__gt=0)
        .annotate(v=expression)
        .values_list("v", flat=True)
    )
    assert len(got) == 1 and type(got[0]) is Decimal
    assert got[0].as_tuple().exponent == -15
    assert math.isclose(float(got[0]), compute(12.5), rel_tol=1e-12)


def test_a_decimal_math_result_beyond_the_decimal_context_is_kept_whole(words: str) -> None:
    """exp(156.25) has more digits than 15 places fit in Python's context: no InvalidOperation."""
    (got,) = (
        Word.objects.filter(text="Ada")
        .annotate(v=fn.Exp(fn.Power("price", Value(2))))
        .values_list("v", flat=True)
    )
    assert type(got) is Decimal
    assert math.isclose(float(got), math.exp(12.5**2), rel_tol=1e-12)


def test_a_decimal_math_result_filters_and_orders(words: str) -> None:
    rows = Word.objects.exclude(price=None).annotate(root=fn.Sqrt(fn.Abs("price")))
    assert list(rows.filter(root__gt=Decimal("3")).values_list("text", flat=True)) == ["Ada"]
    assert list(rows.order_by("root").values_list("text", flat=True)) == ["  Grace  ", "Ada"]


def test_pi_and_random(words: str) -> None:
    assert values(fn.Pi()) == [math.pi] * 3
    randoms = values(fn.Random())
    assert all(isinstance(r, float) and 0 <= r < 1 for r in randoms)


# -- comparison -----------------------------------------------------------------------


def test_greatest_and_least(words: str) -> None:
    assert values(fn.Greatest("n", Value(0))) == [3, 0, None if words == "sqlite" else 0]
    assert values(fn.Least("n", Value(0))) == [0, -7, None if words == "sqlite" else 0]


def test_coalesce_nullif(words: str) -> None:
    assert values(fn.Coalesce("note", "text")) == ["math", "navy", "Zed"]
    assert values(fn.NullIf("note", Value("navy"))) == ["math", None, None]


def test_json_object(words: str) -> None:
    assert values(fn.JSONObject(name="text", n="n", up=fn.Upper("note"))) == [
        {"name": "Ada", "n": 3, "up": "MATH"},
        {"name": "  Grace  ", "n": -7, "up": "NAVY"},
        {"name": "Zed", "n": None, "up": None},
    ]


def test_json_array_and_values_in_json_object(words: str) -> None:
    assert values(fn.JSONArray("text", "n", Value("k"), fn.Lower("note"))) == [
        ["Ada", 3, "k", "math"],
        ["  Grace  ", -7, "k", "navy"],
        ["Zed", None, "k", None],
    ]
    assert values(fn.JSONObject(k=Value("v"), one=Value(1)))[0] == {"k": "v", "one": 1}
    assert values(fn.JSONArray()) == [[], [], []]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (fn.Cast(Value("42"), orm.IntegerField()), [42, 42, 42]),
        (fn.Cast("n", orm.FloatField()), [3.0, -7.0, None]),
        (fn.Cast("n", orm.TextField()), ["3", "-7", None]),
        (fn.Cast("n", orm.CharField(max_length=5)), ["3", "-7", None]),
        (
            fn.Cast("price", orm.DecimalField(max_digits=6, decimal_places=1)),
            [Decimal("12.5"), Decimal("-3.8"), None],
        ),
    ],
)
def test_cast(words: str, expression: Any, expected: list[Any]) -> None:
    assert values(expression) == expected


def test_cast_of_a_float_to_an_integer_rounds_on_postgresql_only(words: str) -> None:
    Word.objects.filter(text="Ada").update(x=2.7)
    cast = (
        Word.objects.filter(text="Ada")
        .annotate(v=fn.Cast("x", orm.IntegerField()))
        .values_list("v", flat=True)
    )
    assert list(cast) == [3 if words == "postgresql" else 2]


def test_functions_compose_with_f(words: str) -> None:
    assert values(fn.Length(fn.Concat("text", "text")) + F("n")) == [9, 11, None]
