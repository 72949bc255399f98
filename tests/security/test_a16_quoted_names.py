"""A16: developer-supplied names containing quotes are escaped by the one chokepoint.

``Weird`` lives in table ``we"ird`` with columns ``o'k``, ``q"uo""ted`` and
``b`ack'"``, a many-to-many table ``we"ird_tags``, an auto-named index over
quoted columns, a CHECK constraint whose literal contains quotes and SQL, a
unique and a partial unique constraint; ``WeirdChild`` (table ``we"ird'child``)
points at it through the column ``pa'rent"id``. Every table is created,
queried, written, joined and dropped under exactly those names.
"""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm import Count, F, IntegrityError, Max
from orm.sql.identifiers import quote_name
from tests.security.models import EVIL_LITERAL, Tag, Weird, WeirdChild

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# DDL and constraint violations on real commits.
pytestmark = pytest.mark.transactional


def scalar(sql: str, params: list[Any] | None = None) -> Any:
    with orm.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@pytest.fixture
def family(db: str) -> list[Weird]:
    a = Weird.objects.create(ok="it's", quoted='say "hi"', back=1)
    b = Weird.objects.create(ok='a"b', quoted="x", back=2)
    WeirdChild.objects.create(parent=a, note="n'1")
    WeirdChild.objects.create(parent=a, note='n"2')
    WeirdChild.objects.create(parent=b, note="n3")
    return [a, b]


def test_quote_name_doubles_embedded_quotes() -> None:
    assert quote_name('we"ird') == '"we""ird"'
    assert quote_name("o'k") == '"o\'k"'
    assert quote_name('"') == '""""'
    with pytest.raises(ValueError):
        quote_name("a\x00b")


def test_tables_exist_under_exact_names(family: list[Weird]) -> None:
    assert scalar('SELECT COUNT(*) FROM "we""ird"') == 2
    assert scalar('SELECT COUNT(*) FROM "we""ird\'child"') == 3
    assert scalar('SELECT COUNT(*) FROM "we""ird_tags"') == 0
    assert scalar('SELECT "o\'k" FROM "we""ird" WHERE "b`ack\'""" = %s', [2]) == 'a"b'
    assert scalar('SELECT "q""uo""""ted" FROM "we""ird" WHERE "o\'k" = %s', ["it's"]) == 'say "hi"'
    assert (
        scalar('SELECT COUNT(*) FROM "we""ird\'child" WHERE "pa\'rent""id" = %s', [family[0].pk])
        == 2
    )


def test_dml_round_trip(family: list[Weird], count_queries: Any) -> None:
    a, b = family
    with count_queries() as ctx:
        assert Weird.objects.get(ok="it's") == a
    assert '"we""ird"' in ctx.queries[0][0]
    assert [w.ok for w in Weird.objects.all()] == ['a"b', "it's"]  # Meta.ordering on "o'k"
    assert list(Weird.objects.filter(quoted__contains='"hi"').values_list("ok", "back")) == [
        ("it's", 1)
    ]
    assert Weird.objects.filter(pk=a.pk).update(back=F("back") + 10, quoted="it's") == 1
    a.refresh_from_db()
    assert (a.back, a.quoted) == (11, "it's")
    a.ok = "o'k again"
    a.save()
    assert Weird.objects.get(pk=a.pk).ok == "o'k again"
    Weird.objects.bulk_update([a, b], ["back"])
    [c] = Weird.objects.bulk_create([Weird(ok="new'", quoted='"', back=3)])
    assert Weird.objects.get(pk=c.pk).quoted == '"'
    assert Weird.objects.aggregate(m=Max("back")) == {"m": 11}
    assert list(Weird.objects.order_by("-back").values_list("back", flat=True)) == [11, 3, 2]
    assert c.delete()[0] == 1
    assert Weird.objects.count() == 2


def test_relations_across_quoted_names(family: list[Weird]) -> None:
    a, b = family
    child = WeirdChild.objects.select_related("parent").get(note="n3")
    assert child.parent == b and child.parent.ok == 'a"b'
    assert sorted(c.note for c in a.children.all()) == sorted(["n'1", 'n"2'])
    parents = list(Weird.objects.prefetch_related("children").order_by("pk"))
    assert [len(p.children.all()) for p in parents] == [2, 1]
    counts = dict(Weird.objects.annotate(n=Count("children")).values_list("ok", "n"))
    assert counts == {"it's": 2, 'a"b': 1}
    assert list(Weird.objects.filter(children__note='n"2')) == [a]
    assert list(Weird.objects.exclude(children__note="n3")) == [a]
    assert list(
        WeirdChild.objects.filter(parent__ok="it's", parent__quoted__startswith="say")
        .order_by("note")
        .values_list("note", flat=True)
    ) == ['n"2', "n'1"]  # '"' sorts before "'"
    assert list(
        Weird.objects.filter(pk__in=WeirdChild.objects.filter(note="n3").values("parent"))
    ) == [b]
    tag = Tag.objects.create(name="t")
    a.tags.add(tag)
    assert list(Weird.objects.filter(tags__name="t")) == [a]
    assert list(tag.weirds.all()) == [a]
    assert list(
        Weird.objects.filter(ok="it's").union(Weird.objects.filter(back=2)).order_by("back")
    ) == [a, b]
    a.delete()
    assert WeirdChild.objects.count() == 1
    assert scalar('SELECT COUNT(*) FROM "we""ird_tags"') == 0


def test_check_literal_with_quotes_stays_a_literal(family: list[Weird]) -> None:
    """The CHECK (NOT "o'k" = '<literal>') compiled with the literal escaped: it rejects exactly it."""
    with pytest.raises(IntegrityError):
        Weird.objects.create(ok=EVIL_LITERAL)
    Weird.objects.create(ok=EVIL_LITERAL + " ")
    assert scalar('SELECT COUNT(*) FROM "we""ird"') == 3


def test_unique_and_partial_unique_constraints(family: list[Weird]) -> None:
    with pytest.raises(IntegrityError):
        Weird.objects.create(ok="it's", quoted='say "hi"', back=99)
    Weird.objects.create(ok="p1", quoted="it's", back=7)
    Weird.objects.create(ok="p2", quoted="other", back=7)  # outside the partial index
    with pytest.raises(IntegrityError):
        Weird.objects.create(ok="p3", quoted="it's", back=7)
    assert Weird.objects.filter(back=7).count() == 2


def test_drop_tables(family: list[Weird]) -> None:
    orm.drop_tables(WeirdChild, Weird)
    with pytest.raises(orm.DatabaseError):
        scalar('SELECT COUNT(*) FROM "we""ird"')
    orm.create_tables(Weird, WeirdChild)
    assert Weird.objects.count() == 0


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


def test_percent_in_developer_names(db: str) -> None:
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
