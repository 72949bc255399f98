"""The shared hostile corpus: RELIABILITY.md section (a), rows A1-A14.

Plain data only (no ``orm`` import), so any test module, fuzzer or benchmark
can reuse it. Names are written against ``tests/security/models.py``: the
field-path corpus attacks ``Book.name`` (and the ``author``/``tags``
relations), the value corpora attack ``Sample``'s columns.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

# --------------------------------------------------------------------- A1
#: The aliases listed in A1 (CVE-2022-28346, CVE-2025-59681, CVE-2025-13372, ...).
ALIAS_LISTED = [
    'x" FROM t; --',
    "a b",
    "a#",
    "a--",
    "a/*",
    "a;",
    "a$",
    "a.b",
]
#: ``"a"`` + each C0 control character and DEL + each C1 control character
#: (CVE-2026-1287): chr(0..31) and chr(0x7F..0x9F).
ALIAS_CONTROL = [f"a{chr(code)}" for code in (*range(0x00, 0x20), *range(0x7F, 0xA0))]
#: Further names no alias may have: the exact inputs of Django's regression
#: tests, other quote characters, the empty name, Unicode whitespace.
ALIAS_EXTRA = [
    'injected_name" from "annotations_book"; --',
    "crafted_alia$",
    "ordering_article.pub_date",
    "",
    "a'",
    'a"',
    "a`",
    "a\u00a0b",  # NO-BREAK SPACE
    "a\u2028b",  # LINE SEPARATOR
    "a\u3000b",  # IDEOGRAPHIC SPACE
    "a\tb",
    "-- a",
    "/* a */",
]
HOSTILE_ALIASES = ALIAS_LISTED + ALIAS_CONTROL + ALIAS_EXTRA
#: Aliases that must keep working (the check is not "reject everything").
SAFE_ALIASES = ["total", "_private", "x1", "Total_2", "naïve", "数量"]

# --------------------------------------------------------------------- A2
#: Field paths against ``Book`` (field ``name``; relations ``author``, ``tags``).
FIELD_PATHS_LISTED = [
    'name"; DROP TABLE x; --',
    "name__evil",
    "__name",
    "name__",
]
#: Unicode look-alikes of ``name``: none may resolve to the real field.
FIELD_PATHS_LOOKALIKE = [
    "n\u0430me",  # CYRILLIC SMALL LETTER A
    "nam\u0435",  # CYRILLIC SMALL LETTER IE
    "\uff4e\uff41\uff4d\uff45",  # FULLWIDTH "name" (NFKC-equal to "name")
    "name\u200b",  # ZERO WIDTH SPACE
    "\u200bname",
    "na\u200dme",  # ZERO WIDTH JOINER
    "name\u00a0",  # NO-BREAK SPACE
    "NAME",
    "n\u0251me",  # LATIN SMALL LETTER ALPHA
]
FIELD_PATHS_EXTRA = [
    "",
    "name ",
    " name",
    "name\n",
    "name;",
    "name--",
    "name.evil",
    "name__exact__evil",
    "pk__evil",
    'author__name"; --',
    "author__n\u0430me",
    "author__",
    "tags__name__evil",
    "\u0430uthor__name",
]
FIELD_PATHS = FIELD_PATHS_LISTED + FIELD_PATHS_LOOKALIKE + FIELD_PATHS_EXTRA
#: The real field behind the corpus, for control tests.
REAL_FIELD = "name"

# --------------------------------------------------------------------- A3
#: Ordering terms outside the grammar ``[-]field(__field)*`` (or ``?``).
ORDERING_TERMS = [
    "name; DROP TABLE t",
    "t.name); --",
    "-",
    "--name",
    "name DESC",
    "1",
    "a.b",
    "",
    "name ",
    "+name",
    "name,rating",
    "name)",
    "RANDOM()",
    "(SELECT 1)",
    "name'",
    '"name"',
    "?name",
    "-?",
    "name\n",
    "n\u0430me",
    "name__evil",
    "author__name; --",
]
#: An annotation alias with a period used for ordering (CVE-2026-1312).
ORDERING_DOTTED_ALIAS = "ordering_article.pub_date"

# --------------------------------------------------------------------- A4
JSON_KEY_INJECTION = """k' = '"a"') OR 1 = 1 OR ('d"""
#: JSON keys used in key transforms (``data__<key>``): bound as parameters.
JSON_KEYS = [
    JSON_KEY_INJECTION,
    'k" FROM t; --',
    "%",
    "%s",
    "%%",
    "%(x)s",
    "'",
    '"',
    "\\",
    "\x00",
    "k" * 10_000,
    "0",
    "a.b",
    "$",
    "[0]",
    "*",
    "$.a",
]
#: JSON keys (no NUL: PostgreSQL's jsonb cannot hold \u0000) that round-trip as data.
JSON_ROUNDTRIP_KEYS = [key for key in JSON_KEYS if "\x00" not in key] + ["%total", "é😀"]
#: ``values()`` paths through a JSON key that must be refused as aliases (CVE-2024-42005).
JSON_VALUES_PATHS = [
    'data__k" FROM t; --',
    'data__injected_name" from "x"; --',
    "data__k;",
    "data__a b",
    "data__k--",
    "data__k/*",
    "data__k\x00",
    "data__k\x85",
]

# --------------------------------------------------------------------- A5
TRUNC_KINDS = [
    "year', ts)) OR 1=1;--",
    "year', start_datetime)) OR 1=1;--",
    "YEAR",
    "year ",
    "",
    "week'",
    "epoch",
    "day; --",
]
EXTRACT_LOOKUPS = [
    "day' FROM ts)) OR 1=1;--",
    "day' FROM start_datetime)) OR 1=1;--",
    "day FROM x",
    "",
    "day;",
    "1day",
]
#: Date parts that are valid identifiers but on no allow-list.
EXTRACT_UNKNOWN_PARTS = ["epoch", "microsecond", "isodow", "dow_evil", "Year"]
EXPLAIN_OPTIONS = [
    {"SUMMARY true) SELECT 1; --": True},
    {"VERBOSE true); DROP TABLE t; --": True},
    {"a b": True},
    {"ANALYZE;": True},
    {"": True},
]
EXPLAIN_FORMATS = ["json) SELECT 1; --", "TEXT; --", "text'"]

# --------------------------------------------------------------------- A6
Q_CONNECTORS = ["OR 1=1 OR", "or", "and", "AND NOT", "", " OR", "OR ", "XOR;--", "||"]
QUERYSET_RESERVED_KWARGS = [
    {"_connector": "OR"},
    {"_connector": "OR 1=1 OR"},
    {"_connector": None},
    {"_negated": True},
    {"_negated": False},
]

# --------------------------------------------------------------------- A7
#: (index or slice, expected exception type) for ``qs[k]``.
BAD_SUBSCRIPTS: list[tuple[object, type[Exception]]] = [
    (-1, ValueError),
    (-(2**70), ValueError),
    ("1; drop", TypeError),
    (1.5, TypeError),
    (True, TypeError),
    (False, TypeError),
    (None, TypeError),
    (Decimal(1), TypeError),
    (2**63, ValueError),
    (2**70, ValueError),
    (slice(None, 2**70), ValueError),
    (slice(2**63, None), ValueError),
    (slice(0, 2**64), ValueError),
    (slice(-1, None), ValueError),
    (slice(None, -1), ValueError),
    (slice(-5, -1), ValueError),
    (slice(True, None), TypeError),
    (slice(None, True), TypeError),
    (slice(1.5, None), TypeError),
    (slice(None, 2.0), TypeError),
    (slice("1; drop", None), TypeError),
    (slice(None, "10"), TypeError),
    (slice(None, None, 1.5), TypeError),
]
MAX_SLICE = 2**63 - 1

# --------------------------------------------------------------------- A8
INT_OUT_OF_RANGE = [2**63, -(2**63) - 1, 2**70]
#: (value, exception) for IntegerField writes and lookups: never truncated.
INT_BAD_VALUES: list[tuple[object, type[Exception]]] = [
    (1.9, ValueError),
    (-0.5, ValueError),
    (Decimal("1.5"), ValueError),
    (float("nan"), ValueError),
    (float("inf"), ValueError),
    (True, TypeError),
    (False, TypeError),
    ("12x", ValueError),
    ("1.9", ValueError),
    ("", ValueError),
    ("0x10", ValueError),
    (b"12", TypeError),
    ([1], TypeError),
]

# --------------------------------------------------------------------- A9
FLOAT_SPECIALS = [
    float("nan"),
    float("inf"),
    float("-inf"),
    "nan",
    "-inf",
    Decimal("NaN"),
    Decimal("Infinity"),
]
JSON_WITH_NAN = [
    float("nan"),
    float("inf"),
    {"x": float("nan")},
    [1, float("-inf")],
    {"a": [1, {"b": float("nan")}]},
]

# -------------------------------------------------------------------- A10
#: For ``DecimalField(max_digits=5, decimal_places=2)``.
DECIMAL_NOT_FINITE = [
    Decimal("NaN"),
    Decimal("-NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    float("nan"),
]
DECIMAL_OVERFLOW = [
    Decimal("1000"),
    Decimal("-1000"),
    Decimal("1E+3"),
    Decimal("999.995"),
    Decimal("-999.995"),
    1000,
    "12345.6",
]
#: (input, stored value): extra places round half-even (banker's rounding).
DECIMAL_ROUNDING = [
    (Decimal("1.239"), Decimal("1.24")),
    (Decimal("1.235"), Decimal("1.24")),
    (Decimal("1.245"), Decimal("1.24")),
    (Decimal("1.225"), Decimal("1.22")),
    (Decimal("-1.245"), Decimal("-1.24")),
    (Decimal("0.005"), Decimal("0.00")),
    (Decimal("0.015"), Decimal("0.02")),
    (Decimal("999.994"), Decimal("999.99")),
    (Decimal("1E-30"), Decimal("0.00")),
    ("1.239", Decimal("1.24")),
    (1.239, Decimal("1.24")),
]

# -------------------------------------------------------------------- A11
#: For ``CharField(max_length=5)``: length is counted in characters.
TOO_LONG = "a" * 10
FITS = ["aaaaa", "ééééé", "😀😀😀😀😀", "'\";--"]
NUL_STRINGS = ["a\x00b", "\x00", "abc\x00"]
SURROGATE_STRINGS = ["\ud800", "a\udfffb", "\udbff"]
ONE_MB_TEXT = ("lorem ipsum é 😀 %s %% '\" \\ ;-- /* */ \n\t" * 40_000)[:1_048_576]
NOT_STR = [
    ["x"],
    ("x",),
    b"x",
    bytearray(b"x"),
    5,
    1.5,
    Decimal("1"),
    dt.date(2024, 1, 1),
    {"x": 1},
]

# -------------------------------------------------------------------- A12
UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NAIVE_DATETIMES = [
    dt.datetime(2024, 1, 1),
    dt.datetime(2024, 10, 27, 2, 30),
    "2024-01-01T00:00:00",
    "2024-01-01 12:00:00.123456",
]
#: Aware values that must round-trip to the same instant, microseconds included.
AWARE_ROUNDTRIP = [
    dt.datetime(2024, 3, 31, 2, 30, tzinfo=BERLIN),  # in the spring-forward gap
    dt.datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=BERLIN),
    dt.datetime(2024, 3, 31, 3, 0, tzinfo=BERLIN),
    dt.datetime(2024, 10, 27, 2, 30, fold=0, tzinfo=BERLIN),  # ambiguous: first pass
    dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),  # ambiguous: second pass
    dt.datetime(1, 1, 1, tzinfo=UTC),
    dt.datetime(1, 1, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-1))),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    dt.datetime(9999, 12, 31, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    dt.datetime(2024, 5, 5, 1, 2, 3, 456789, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime(2024, 5, 5, 1, 2, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=-9, minutes=-30))),
    dt.datetime(2000, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-12))),
]
#: One instant series with mixed offsets, in true chronological order.
MIXED_OFFSETS_CHRONOLOGICAL = [
    dt.datetime(2024, 1, 1, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=14))),  # 09:00Z
    dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC),  # 10:00Z
    dt.datetime(2024, 1, 1, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),  # 11:00Z
    dt.datetime(2024, 1, 1, 13, 0, 0, 1, tzinfo=BERLIN),  # 12:00:00.000001Z
    dt.datetime(2024, 1, 1, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=-10))),  # 12:30Z
    dt.datetime(2024, 1, 2, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))),  # 15:00Z
]

# -------------------------------------------------------------------- A13
#: A primary key that is not a number.
PK_JUNK = "abc"
#: (value, where the error must point) for a JSONField: not JSON, refused with TypeError.
NON_JSON: list[tuple[object, str]] = [
    ({1, 2}, "set at top level"),
    (frozenset(), "frozenset at top level"),
    (object(), "object at top level"),
    ({"d": dt.date(2024, 1, 1)}, "date at .d"),
    ({"a": [1, Decimal("1.5")]}, r"Decimal at .a\[1\]"),
    (b"x", "bytes at top level"),
    ({1: "x"}, "keys must be str"),
    ({"a": {("t",): 1}}, "keys must be str"),
]
#: Byte strings for a TextField: no str() coercion.
BYTES_VALUES = [b"abc", bytearray(b"abc"), memoryview(b"abc")]

# -------------------------------------------------------------------- A14
RAW_VALUES = [
    "x' OR '1'='1",
    "'; DROP TABLE security_book; --",
    "' OR 1=1 --",
    "1; SELECT 1",
    "%s",
    "%%",
    "%(name)s",
    "%",
    "?",
    ":1",
    "$1",
    "\\",
    '"',
    "'",
    "é😀",
]
