"""Hostile-input regressions: behaviour RELIABILITY.md expects that orm once lacked.

Each docstring gives the input and the expected outcome.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orm
from orm import F, FieldError
from tests.security.corpus import FIELD_PATHS_LISTED
from tests.security.models import Book, Sample

# ---------------------------------------------------------------- A2 names

def test_p01_create_unknown_field_is_fielderror(db: str, reject: Any) -> None:
    """A2 ``create(**kw)``: expected FieldError listing the choices; actual TypeError
    ("Book() got unexpected keyword arguments: ... Fields are: ...") from Model.__init__
    (the Django behaviour, but not the catalogue's). 0 queries already holds."""
    for path in FIELD_PATHS_LISTED:
        with reject(FieldError, "rating"):
            Book.objects.create(**{path: "x"})


def test_p02_prefetch_related_checks_names_before_sql(db: str, reject: Any) -> None:
    """A2 (brief: every entry point taking a field name): ``prefetch_related('name"; DROP
    TABLE x; --')`` runs the main SELECT first and raises FieldError only afterwards
    (1 query); on an empty table the hostile name is accepted silently (no error at all).
    Expected: FieldError before any SQL, whatever the rows."""
    with reject(FieldError):
        list(Book.objects.prefetch_related('name"; DROP TABLE x; --'))  # empty table: no error today
    Book.objects.create(name="b")
    with reject(FieldError):
        list(Book.objects.prefetch_related("n\u0430me"))  # 1 SELECT runs first today


def test_p03_defaults_names_checked_before_sql(db: str, reject: Any, snapshot: Any) -> None:
    """A2 via ``get_or_create``/``update_or_create`` ``defaults=``:
    - ``get_or_create(name="new", defaults={'name"; --': 1})`` raises FieldError only after
      its SELECT ran (1 query);
    - ``get_or_create(name="kept", defaults={<hostile>: 1})`` on an existing row returns it
      with no error at all;
    - ``update_or_create(name="kept", defaults={<hostile>: 1})`` on an existing row silently
      sets a Python attribute, saves, and returns (obj, False): the caller believes a field
      was updated.
    Expected: FieldError listing the choices, 0 queries, nothing written."""
    Book.objects.create(name="kept")
    before = snapshot(Book)
    hostile = {'name"; DROP TABLE x; --': 1}
    with reject(FieldError):
        Book.objects.update_or_create(name="kept", defaults=hostile)
    with reject(FieldError):
        Book.objects.get_or_create(name="kept", defaults=hostile)
    with reject(FieldError):
        Book.objects.get_or_create(name="new", defaults=hostile)
    assert snapshot(Book) == before


# ------------------------------------------------------------------ A7 slices

def test_p04_nested_slice_past_limit_rejected_before_sql(db: str, reject: Any) -> None:
    """A7: ``qs[2**62:][2**62:]`` (each bound legal) gives an OFFSET of 2**63; orm only
    checks each bound, not the combined offset, so SQLite runs the statement and fails
    with IntegrityError("datatype mismatch") (RELIABILITY.md measured PostgreSQL DataError
    "bigint out of range" for such bounds).
    Expected: ValueError naming 2**63-1, before SQL."""
    Book.objects.create(name="b")
    with reject(ValueError, str(2**63 - 1)):
        list(Book.objects.all()[2**62:][2**62:])


def test_p05_slice_step_zero_and_bool(db: str, reject: Any) -> None:
    """A7 (minor): ``qs[::0]`` returns the whole unsliced QuerySet (Python raises
    "slice step cannot be zero"); ``qs[::True]`` is accepted as step 1 although A7 says
    bool → reject. Expected: ValueError for 0 and TypeError for a bool step, before SQL."""
    with reject(ValueError):
        Book.objects.all()[::0]
    with reject(TypeError):
        list(Book.objects.all()[::True])


# ---------------------------------------------------------------- A8 integers

def test_p06_out_of_range_value_inside_expression(db: str, reject: Any, snapshot: Any) -> None:
    """A8 writes: ``update(i=F("i") + 2**63)`` escapes as the driver's raw OverflowError
    after the UPDATE was attempted; the ``Value(2**63)`` inside the expression is never
    range-checked. Expected: one ORM DataError naming the field, before SQL."""
    Sample.objects.create(i=1)
    before = snapshot(Sample)
    with reject(orm.DataError, "'i'"):
        Sample.objects.update(i=F("i") + 2**63)
    assert snapshot(Sample) == before


# ---------------------------------------------------------------- A9 floats

def test_p08_huge_int_into_floatfield(db: str, reject: Any) -> None:
    """A9 (minor): ``create(fl=2**1024)`` raises a bare ``OverflowError("int too large to
    convert to float")`` that does not name the field (every other bad float is a
    ValueError naming it). Expected: ValueError naming 'fl', before SQL."""
    with reject(ValueError, "'fl'"):
        Sample.objects.create(fl=2**1024)


# ---------------------------------------------------------------- A11 strings

def test_p09_lone_surrogate_in_lookup(db: str, count_queries: Any) -> None:
    """A11 "surrogate → clear error": writes raise DataError naming the field, but a lookup
    ``filter(text="\\ud800")`` reaches the driver, which raises a raw UnicodeEncodeError
    ("'utf-8' codec can't encode character '\\ud800'...", no field name) after the statement
    was attempted. Expected: the writes' clear error before SQL, or simply 0 rows."""
    with count_queries() as ctx:
        try:
            result = list(Sample.objects.filter(text="\ud800"))
        except (orm.DataError, ValueError) as exc:
            assert not isinstance(exc, UnicodeError), f"raw driver error: {exc!r}"
            assert "'text'" in str(exc)
            assert ctx.queries == []
        else:
            assert result == []


# --------------------------------------------------------------- A12 datetimes

def test_p10_aware_datetime_into_naive_fields_is_refused(db: str, reject: Any) -> None:
    """A12 "aware into a naive field": strict. An aware datetime given to a DateField or a
    TimeField raises ValueError naming the field (which date or time it means depends on a
    time zone the caller must choose), before any SQL."""
    value = dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with reject(ValueError, "'day'"):
        Sample.objects.create(day=value)
    with reject(ValueError, "'tm'"):
        Sample.objects.create(tm=value)


def test_p11_datetime_outside_utc_range_names_the_field(db: str, reject: Any) -> None:
    """A12/A13 messages: ``create(ts=datetime(1, 1, 1, tzinfo=+01:00))`` (and 9999-12-31 23:00
    at -02:00) cannot be represented in UTC; orm lets ``astimezone`` raise a bare
    ``OverflowError("date value out of range")`` that names neither field nor value.
    Expected: ValueError (or DataError) naming 'ts' and the value, before SQL."""
    for value in (dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
                  dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-2)))):
        with reject((ValueError, orm.DataError), "'ts'"):
            Sample.objects.create(ts=value)


# ------------------------------------------------------------- A13 wrong types

def test_p12_fk_lookup_with_other_models_instance(db: str, reject: Any) -> None:
    """A13 (minor): an instance of another model is a ValueError on assignment
    (``create(author=tag)``) but a TypeError in ``filter(author=tag)`` / ``update(author=tag)``;
    Django raises ValueError for both and A13 asks for ValueError-style messages.
    Expected: ValueError in every path."""
    from tests.security.models import Tag

    tag = Tag.objects.create(name="t")
    with reject(ValueError, "author"):
        list(Book.objects.filter(author=tag))
    with reject(ValueError, "author"):
        Book.objects.update(author=tag)


def test_p13_none_into_not_null_checked_before_sql(db: str, reject: Any) -> None:
    """Design decision 5 (validate before write), minor: ``create(code=None)`` on a NOT NULL
    CharField reaches the database and fails there with IntegrityError (1 query).
    ``Field.check_write`` has a "cannot be None (null=False)" DataError, but it is dead code:
    ``get_db_prep_save`` calls ``check_write`` only for values that are not None.
    Checked before SQL since; the error is IntegrityError, the one the database gives
    (issue 11 item 13)."""
    with reject(orm.IntegrityError, "'code'"):
        Sample.objects.create(code=None)


# ------------------------------------------------------------- A4 JSON keys

def test_p14_json_key_containing_double_quote_is_found(db: str) -> None:
    """A4 (correctness, not injection): on SQLite a key containing '"' is never matched:
    the path parameter ``$."a\\"b"`` (json.dumps-quoted) is not understood by SQLite's
    JSON path parser, so ``filter(data__<key>=v)`` and ``has_key`` return 0 rows although
    the stored document has that key. Affects e.g. the CVE-2019-14234 key itself.
    Expected: the document is found (PostgreSQL binds the key as text, unaffected)."""
    key = 'a"b'
    book = Book.objects.create(name="q", data={key: 1})
    assert list(Book.objects.filter(**{f"data__{key}": 1})) == [book]
    assert list(Book.objects.filter(data__has_key=key)) == [book]


# --------------------------------------------------- A16 identifier chokepoint

class PercentTable(orm.Model):
    a = orm.CharField(max_length=20, db_column="100%")

    class Meta:
        app_label = "security"
        db_table = "pct%stable"


class PercentColumn(orm.Model):
    a = orm.CharField(max_length=20, db_column="a%%b")
    b = orm.CharField(max_length=20, db_column="c%sd", default="")

    class Meta:
        app_label = "security"


def test_p15_percent_in_developer_names(db: str) -> None:
    """A16 / decision 6: ``quote_name`` doubles quotes but not ``%``, and the SQLite backend
    rewrites ``%s`` → ``?`` and ``%%`` → ``%`` in the *whole* statement text whenever params
    are passed (every ORM query passes a list, even []). DDL runs without params, so
    ``create_tables`` creates ``pct%stable`` / ``a%%b`` / ``c%sd`` as declared, but every
    DML then names ``pct?table`` / ``a%b`` / ``c?d``: OperationalError "no such table:
    pct?table", "table ... has no column named a%b". With psycopg the same ``%s`` inside a
    quoted identifier - or inside a user alias, which ``check_alias`` allows
    (``annotate(**{"x%s": ...})``, ``values("data__%s")``) - would be parsed as a
    placeholder and shift the parameters. Expected: names with ``%`` work (escape ``%`` as
    ``%%`` in ``quote_name`` consistently for DDL and DML, or refuse ``%`` in names)."""
    orm.create_tables(PercentTable, PercentColumn)
    obj = PercentTable.objects.create(a="x")
    assert PercentTable.objects.get(pk=obj.pk).a == "x"
    other = PercentColumn.objects.create(a="y", b="z")
    assert PercentColumn.objects.filter(a="y").values_list("a", "b").get(pk=other.pk) == ("y", "z")


# -------------------------------------------------------------- not security

def test_p16_select_for_update_of_checked_on_sqlite(db: str, reject: Any) -> None:
    """Minor: ``select_for_update(of=['name"; --'])`` is validated only where FOR UPDATE is
    compiled (PostgreSQL); on SQLite the hostile name is accepted silently, so the same code
    passes tests on SQLite and fails in production. Expected: FieldError/ValueError on every
    backend, before SQL."""
    with orm.transaction.atomic():
        with reject((FieldError, ValueError)):
            list(Book.objects.select_for_update(of=['name"; DROP TABLE x; --']))
