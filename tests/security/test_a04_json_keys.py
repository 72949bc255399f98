"""A4: JSON keys are bound as parameters, never SQL text (CVE-2019-14234, CVE-2024-42005).

Filters on a hostile key match nothing, run exactly one statement whose SQL
text is the same as for a harmless key (so no key text reaches SQL), and leave
the table intact; ``values()`` through a hostile key is a ValueError (the key
would become a column alias); ``order_by`` through one is a FieldError
(grammar); stored documents with hostile keys round-trip exactly.
"""

from __future__ import annotations

from typing import Any

import pytest

from orm import FieldError
from tests.security.corpus import (
    JSON_KEY_INJECTION,
    JSON_KEYS,
    JSON_ROUNDTRIP_KEYS,
    JSON_VALUES_PATHS,
)
from tests.security.models import Book

BENIGN = "benign"


@pytest.fixture
def doc_books(db: str) -> list[Book]:
    return [
        Book.objects.create(name="doc", data={"%total": 10, "k": "v", "0": "zero", "d": 1}),
        Book.objects.create(name="list", data={"k": ["v", 1], "n": {"k": "v"}}),
        Book.objects.create(name="null", data=None),
    ]


def key_id(key: str) -> str:
    return ascii(key[:24]) + (f"...({len(key)})" if len(key) > 24 else "")


LOOKUPS = [
    ("", 1),
    ("", "1' OR '1'='1"),
    ("__exact", {"a": 1}),
    ("__in", [1, "v"]),
    ("__endswith", "v"),
    ("__has_key", "v"),
    ("__has_keys", ["v", "w"]),
    ("__icontains", "%"),
    ("__startswith", "_"),
    ("__gt", 0),
    ("__isnull", False),
]


@pytest.mark.parametrize(
    "lookup,value", LOOKUPS, ids=lambda v: str(v) if isinstance(v, str) else None
)
def test_filter_key_is_a_parameter(
    doc_books: list[Book], count_queries: Any, snapshot: Any, lookup: str, value: Any
) -> None:
    """For every key: 0 rows, one statement, and SQL text identical to a harmless key's.

    On SQLite a key containing '"' cannot be written in a JSON path, so such keys take a
    json_each() form; the SQL is then identical to a harmless key's that also has a '"'.
    """
    before = snapshot(Book)
    with count_queries() as benign:
        assert Book.objects.filter(**{f"data__{BENIGN}{lookup}": value}).count() == 0
    with count_queries() as benign_quoted:
        assert Book.objects.filter(**{f'data__{BENIGN}"{lookup}': value}).count() == 0
    allowed = {benign.queries[0][0], benign_quoted.queries[0][0]}
    problems = []
    for key in JSON_KEYS:
        with count_queries() as hostile:
            try:
                count = Book.objects.filter(**{f"data__{key}{lookup}": value}).count()
            except Exception as exc:  # noqa: BLE001 - reported below
                problems.append(f"{key_id(key)}: {type(exc).__name__}: {exc}")
                continue
        if count:
            problems.append(f"{key_id(key)}: matched {count} row(s)")
        if len(hostile.queries) != 1:
            problems.append(f"{key_id(key)}: {len(hostile.queries)} statements")
        elif hostile.queries[0][0] not in allowed:
            problems.append(
                f"{key_id(key)}: SQL text depends on the key: {hostile.queries[0][0]:.200}"
            )
        elif len(key) > 3 and key in hostile.queries[0][0]:
            problems.append(f"{key_id(key)}: key text in SQL")
    assert problems == [], "\n".join(problems)
    assert snapshot(Book) == before


def test_has_key_is_a_parameter(doc_books: list[Book], count_queries: Any) -> None:
    with count_queries() as benign:
        assert Book.objects.filter(data__has_key=BENIGN).count() == 0
    with count_queries() as benign_quoted:  # SQLite's json_each() form, see above
        assert Book.objects.filter(data__has_key=f'{BENIGN}"').count() == 0
    allowed = {benign.queries[0][0], benign_quoted.queries[0][0]}
    for key in JSON_KEYS:
        # has_key names an object key even when it is all digits: the document
        # {"0": "zero"} has the key "0" (an array index would be data__0).
        expected = 1 if key == "0" else 0
        with count_queries() as hostile:
            assert Book.objects.filter(data__has_key=key).count() == expected, key_id(key)
        assert hostile.queries[0][0] in allowed, key_id(key)


def test_injection_key_from_cve_regression_test(doc_books: list[Book], count_queries: Any) -> None:
    """Django's CVE-2019-14234 input; ``OR 1 = 1`` would return every row if it were SQL."""
    with count_queries() as ctx:
        assert list(Book.objects.filter(**{f"data__{JSON_KEY_INJECTION}": "x"})) == []
        assert Book.objects.filter(**{f"data__{JSON_KEY_INJECTION}__isnull": False}).count() == 0
        assert Book.objects.count() == len(doc_books)
    assert all(JSON_KEY_INJECTION not in sql for sql, _ in ctx.queries)


def test_percent_key_matches_exactly(doc_books: list[Book]) -> None:
    """``%`` in a key is not a wildcard or placeholder: ``data__%total`` finds exactly 10."""
    assert list(Book.objects.filter(**{"data__%total": 10})) == [doc_books[0]]
    assert Book.objects.filter(**{"data__%total": 11}).count() == 0
    assert Book.objects.filter(**{"data__%tota": 10}).count() == 0
    assert list(Book.objects.filter(pk=doc_books[0].pk).values_list("data__%total", flat=True)) == [
        10
    ]


def test_numeric_key_is_an_array_index(doc_books: list[Book]) -> None:
    """Documented behaviour (as Django): a key of digits such as ``'0'`` is an array index,
    so it reaches element 0 of an array and not the object key ``"0"``."""
    array = Book.objects.create(name="arr", data=["zero", 1])
    assert list(Book.objects.filter(data__0="zero")) == [array]
    assert list(Book.objects.filter(data__k="v")) == [doc_books[0]]


def test_values_through_hostile_key_rejected(doc_books: list[Book], all_rejected: Any) -> None:
    all_rejected(
        lambda p: Book.objects.values(p), JSON_VALUES_PATHS, ValueError, "Aliases cannot contain"
    )
    all_rejected(
        lambda p: Book.objects.values_list(p),
        JSON_VALUES_PATHS,
        ValueError,
        "Aliases cannot contain",
    )
    all_rejected(
        lambda p: Book.objects.values("name", p),
        JSON_VALUES_PATHS,
        ValueError,
        "Aliases cannot contain",
    )


def test_order_by_through_hostile_key_rejected(doc_books: list[Book], all_rejected: Any) -> None:
    """Keys that are not identifiers fail the ordering grammar (digit keys are indexes)."""
    keys = [k for k in JSON_KEYS if not k.isidentifier() and not k.isdigit()]
    all_rejected(
        lambda k: Book.objects.order_by(f"data__{k}"), keys, FieldError, "Invalid order_by term"
    )
    all_rejected(
        lambda k: Book.objects.order_by(f"-data__{k}"), keys, FieldError, "Invalid order_by term"
    )


def test_roundtrip_exact(db: str) -> None:
    """Documents whose keys and values are the hostile strings come back exactly."""
    document: dict[str, Any] = {key: key for key in JSON_ROUNDTRIP_KEYS}
    document["%total"] = 10
    document["nested"] = {key: [key, {key: None}] for key in JSON_ROUNDTRIP_KEYS[:6]}
    book = Book.objects.create(name="rt", data=document)
    assert Book.objects.get(pk=book.pk).data == document
    assert Book.objects.filter(pk=book.pk).values_list("data", flat=True)[0] == document
    percent = Book.objects.create(name="pct", data={"%total": 10})
    assert Book.objects.get(pk=percent.pk).data == {"%total": 10}


#: Keys a filter can reach: digit keys are array indexes and "__" nests.
FINDABLE_KEYS = [
    k for k in JSON_ROUNDTRIP_KEYS if len(k) < 100 and not k.isdigit() and "__" not in k
]


def test_filter_finds_hostile_key_when_present(db: str) -> None:
    """Control: the key is compared as data, so the document that has it is found."""
    for key in FINDABLE_KEYS:
        book = Book.objects.create(name="has", data={key: "found"})
        other = Book.objects.create(name="other", data={"x" + key: "found"})
        assert list(Book.objects.filter(**{f"data__{key}": "found"})) == [book], key_id(key)
        assert list(Book.objects.filter(data__has_key=key)) == [book], key_id(key)
        book.delete()
        other.delete()


# ------------------------------------------------------------- A4 JSON keys


def test_json_key_containing_double_quote_is_found(db: str) -> None:
    """A4 (correctness, not injection): on SQLite a key containing '"' is never matched:
    the path parameter ``$."a\\"b"`` (json.dumps-quoted) is not understood by SQLite's
    JSON path parser, so ``filter(data__<key>=v)`` and ``has_key`` return 0 rows although
    the stored document has that key. Affects e.g. the CVE-2019-14234 key itself.
    Expected: the document is found (PostgreSQL binds the key as text, unaffected)."""
    key = 'a"b'
    book = Book.objects.create(name="q", data={key: 1})
    assert list(Book.objects.filter(**{f"data__{key}": 1})) == [book]
    assert list(Book.objects.filter(data__has_key=key)) == [book]
