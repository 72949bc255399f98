"""``connection.introspection`` reads back exactly what ``create_tables`` made, on both backends.

The models cover every field type (null and not null, with defaults),
``unique``, ``db_index``, ``Meta.indexes`` (descending, conditional,
auto-named), ``Meta.constraints`` (unique, conditional unique, check over two
columns), ``unique_together``, foreign keys to a primary key and to another
column (``to_field``), a one-to-one, an automatic many-to-many table, and
table and column names with quote characters. Each test compares the whole
introspected description with the expected one, so anything extra or missing
fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

import orm
from orm import F, Q
from orm.backends.base.introspection import ConstraintInfo, FieldInfo, SequenceInfo, TableInfo

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# introspection must leave no transaction open.
pytestmark = pytest.mark.transactional

APP = "i12_introspection"
ODD_TABLE = "i12_o\"d'd"
ODD_COLUMN = "la\"b'el"
CHILD_TABLE = 'i12_ch"ild'
CHILD_COLUMN = "pa'rent\""


class Target(orm.Model):
    id = orm.AutoField(primary_key=True)
    code = orm.CharField(max_length=10, unique=True)

    class Meta:
        app_label = APP
        db_table = "i12_target"


class Kinds(orm.Model):
    """Every column type, null and not null."""

    id = orm.SmallAutoField(primary_key=True)
    small = orm.SmallIntegerField()
    integer = orm.IntegerField(null=True)
    big = orm.BigIntegerField(default=7)
    positive = orm.PositiveIntegerField(null=True)
    real = orm.FloatField()
    money = orm.DecimalField(max_digits=8, decimal_places=2, default=0)
    flag = orm.BooleanField(default=False)
    maybe = orm.BooleanField(null=True)
    name = orm.CharField(max_length=100)
    body = orm.TextField(null=True)
    email = orm.EmailField(null=True)
    slug = orm.SlugField()
    url = orm.URLField(null=True)
    uid = orm.UUIDField(null=True)
    day = orm.DateField()
    moment = orm.DateTimeField(null=True)
    clock = orm.TimeField(null=True)
    span = orm.DurationField(null=True)
    doc = orm.JSONField(null=True)
    blob = orm.BinaryField(null=True)

    class Meta:
        app_label = APP
        db_table = "i12_kinds"


class Rules(orm.Model):
    """Every kind of index and constraint a model can declare."""

    sku = orm.CharField(max_length=20, unique=True)
    rank = orm.IntegerField(db_index=True)
    score = orm.PositiveIntegerField(default=0)
    low = orm.IntegerField()
    high = orm.IntegerField()
    note = orm.TextField(default="")

    class Meta:
        app_label = APP
        db_table = "i12_rules"
        unique_together = [("low", "high")]
        indexes = [
            orm.Index(fields=["-rank", "low"], name="i12_rules_rank_low"),
            orm.Index(fields=["note"], name="i12_rules_note_scored", condition=Q(score__gt=0)),
            orm.Index(fields=["high"]),
        ]
        constraints = [
            orm.UniqueConstraint(fields=["high", "rank"], name="i12_rules_high_rank"),
            orm.UniqueConstraint(
                fields=["sku", "rank"], condition=Q(score=0), name="i12_rules_unscored"
            ),
            orm.CheckConstraint(condition=Q(high__gte=F("low")), name="i12_rules_range"),
        ]


class Link(orm.Model):
    """Foreign keys to a primary key and to a unique column, a one-to-one, a many-to-many."""

    target = orm.ForeignKey(Target, on_delete=orm.CASCADE, related_name="links")
    by_code = orm.ForeignKey(
        Target,
        on_delete=orm.SET_NULL,
        to_field="code",
        null=True,
        db_column="code_ref",
        related_name="coded_links",
    )
    rules = orm.OneToOneField(Rules, on_delete=orm.PROTECT, related_name="link")
    kinds = orm.ManyToManyField(Kinds, related_name="links")

    class Meta:
        app_label = APP
        db_table = "i12_link"


class Odd(orm.Model):
    """Quote characters in the table, column and auto-generated index names."""

    label = orm.CharField(max_length=30, db_column=ODD_COLUMN, unique=True)

    class Meta:
        app_label = APP
        db_table = ODD_TABLE
        indexes = [orm.Index(fields=["-label"])]
        constraints = [
            orm.CheckConstraint(condition=~Q(label='it\'s "odd"'), name="i12_odd_check"),
        ]


class OddChild(orm.Model):
    parent = orm.ForeignKey(
        Odd, on_delete=orm.CASCADE, to_field="label", db_column=CHILD_COLUMN, related_name="kids"
    )

    class Meta:
        app_label = APP
        db_table = CHILD_TABLE


MODELS = (Target, Kinds, Rules, Link, Odd, OddChild)
TABLES = [
    "i12_kinds",
    "i12_link",
    "i12_link_kinds",
    "i12_rules",
    "i12_target",
    CHILD_TABLE,
    ODD_TABLE,
]


@pytest.fixture
def schema(backend: str) -> Iterator[str]:
    """The tables of ``MODELS``, made by ``create_tables``; yields the vendor."""
    orm.create_tables(*MODELS)
    yield backend


# ----------------------------------------------------------------- helpers


def intro() -> Any:
    return orm.connection.introspection


def auto_name(table: str, columns: list[str], suffix: str) -> str:
    """The name the schema editor gives an index or foreign key it names itself."""
    editor = orm.connection.schema_editor_class(orm.connection, collect_sql=True)
    return str(editor.make_name(table, columns, suffix))


def described(table: str) -> list[FieldInfo]:
    """``get_table_description(table)``, SQLite's type names lower-cased.

    SQLite 3.37+ reports the type names it knows (INTEGER, TEXT, REAL, BLOB)
    in capitals and others as declared; lower-casing keeps the expectations
    independent of the SQLite version.
    """
    rows = intro().get_table_description(table)
    if orm.connection.vendor == "sqlite":
        rows = [dataclasses.replace(row, data_type=row.data_type.lower()) for row in rows]
    return list(rows)


def column(
    name: str,
    sqlite: str,
    postgresql: tuple[str, int],
    *,
    null: bool = False,
    pk: bool = False,
    max_length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    auto: bool = False,
) -> FieldInfo:
    """The FieldInfo expected on the current backend."""
    pg_type, oid = postgresql
    on_pg = orm.connection.vendor == "postgresql"
    if not on_pg and sqlite.startswith("decimal"):
        precision = scale = None  # SQLite's decimal column is declared without digits
    return FieldInfo(
        name=name,
        data_type=pg_type if on_pg else sqlite,
        null_ok=null,
        default=None,
        pk=pk,
        max_length=max_length,
        precision=precision,
        scale=scale,
        collation=None,
        is_autofield=auto,
        type_code=oid if on_pg else None,
    )


def without_index_sql(constraints: dict[str, ConstraintInfo]) -> dict[str, ConstraintInfo]:
    """Index definitions are whole statements; ``test_index_definitions`` checks them."""
    return {
        name: dataclasses.replace(info, definition=None) if info.index else info
        for name, info in constraints.items()
    }


def pk(vendor: str, table: str, columns: list[str] | None = None) -> dict[str, ConstraintInfo]:
    name = "__primary__" if vendor == "sqlite" else f"{table}_pkey"
    return {name: ConstraintInfo(columns=columns or ["id"], primary_key=True, unique=True)}


def unique(*columns: str) -> ConstraintInfo:
    return ConstraintInfo(columns=list(columns), unique=True)


def index(
    *columns: str,
    orders: list[str] | None = None,
    unique: bool = False,
    condition: str | None = None,
) -> ConstraintInfo:
    return ConstraintInfo(
        columns=list(columns),
        unique=unique,
        index=True,
        orders=orders or ["ASC"] * len(columns),
        type="btree",
        condition=condition,
    )


def check(columns: list[str], definition: str) -> ConstraintInfo:
    return ConstraintInfo(columns=columns, check=True, definition=definition)


def fk(column: str, to_table: str, to_column: str) -> ConstraintInfo:
    # create_tables makes every foreign key DEFERRABLE INITIALLY DEFERRED and
    # leaves on_delete to orm (as Django does), so the database says NO ACTION.
    return ConstraintInfo(
        columns=[column],
        foreign_key=(to_table, to_column),
        on_delete="NO ACTION",
        on_update="NO ACTION",
        deferrable=True,
        initially_deferred=True,
    )


def fk_and_index(
    vendor: str, table: str, column: str, to_table: str, to_column: str, sqlite_name: str
) -> dict[str, ConstraintInfo]:
    """A ForeignKey's constraint and its db_index index (SQLite does not name the constraint)."""
    name = sqlite_name if vendor == "sqlite" else auto_name(table, [column], "fk")
    return {name: fk(column, to_table, to_column), auto_name(table, [column], "idx"): index(column)}


def like(vendor: str, table: str, column: str) -> dict[str, ConstraintInfo]:
    """PostgreSQL's extra varchar_pattern_ops index of an indexed text column."""
    return {auto_name(table, [column], "like"): index(column)} if vendor == "postgresql" else {}


# ------------------------------------------------------------------ tables


def test_table_names_and_list(schema: str) -> None:
    assert intro().table_names() == sorted(TABLES)
    assert sorted(intro().get_table_list(), key=lambda t: t.name) == [
        TableInfo(name, "t") for name in sorted(TABLES)
    ]


def test_views_are_listed_only_on_request(schema: str) -> None:
    with orm.connection.cursor() as cursor:
        cursor.execute('CREATE VIEW "i12_v""iew" AS SELECT "id", "code" FROM "i12_target"', [])
    assert 'i12_v"iew' not in intro().table_names()
    assert 'i12_v"iew' in intro().table_names(include_views=True)
    assert TableInfo('i12_v"iew', "v") in intro().get_table_list()
    assert [c.name for c in intro().get_table_description('i12_v"iew')] == ["id", "code"]


# ----------------------------------------------------------------- columns


def test_every_column_type(schema: str) -> None:
    assert described("i12_kinds") == [
        column("id", "integer", ("smallint", 21), pk=True, auto=True),
        column("small", "smallint", ("smallint", 21)),
        column("integer", "integer", ("integer", 23), null=True),
        column("big", "bigint", ("bigint", 20)),
        column("positive", "integer unsigned", ("integer", 23), null=True),
        column("real", "real", ("double precision", 701)),
        column("money", "decimal", ("numeric(8,2)", 1700), precision=8, scale=2),
        column("flag", "bool", ("boolean", 16)),
        column("maybe", "bool", ("boolean", 16), null=True),
        column("name", "varchar(100)", ("character varying(100)", 1043), max_length=100),
        column("body", "text", ("text", 25), null=True),
        column(
            "email", "varchar(254)", ("character varying(254)", 1043), null=True, max_length=254
        ),
        column("slug", "varchar(50)", ("character varying(50)", 1043), max_length=50),
        column("url", "varchar(200)", ("character varying(200)", 1043), null=True, max_length=200),
        # SQLite keeps a UUID as 32 hex characters.
        column(
            "uid",
            "char(32)",
            ("uuid", 2950),
            null=True,
            max_length=32 if orm.connection.vendor == "sqlite" else None,
        ),
        column("day", "date", ("date", 1082)),
        column("moment", "datetime", ("timestamp with time zone", 1184), null=True),
        column("clock", "time", ("time without time zone", 1083), null=True),
        column("span", "bigint", ("interval", 1186), null=True),
        column("doc", "text", ("jsonb", 3802), null=True),
        column("blob", "blob", ("bytea", 17), null=True),
    ]


def test_key_columns_of_relations(schema: str) -> None:
    assert described("i12_target") == [
        column("id", "integer", ("integer", 23), pk=True, auto=True),
        column("code", "varchar(10)", ("character varying(10)", 1043), max_length=10),
    ]
    assert described("i12_link") == [
        column("id", "integer", ("bigint", 20), pk=True, auto=True),
        column("target_id", "integer", ("integer", 23)),
        # A foreign key column takes the type of the column it points at.
        column(
            "code_ref", "varchar(10)", ("character varying(10)", 1043), null=True, max_length=10
        ),
        column("rules_id", "bigint", ("bigint", 20)),
    ]
    assert described("i12_link_kinds") == [
        column("id", "integer", ("bigint", 20), pk=True, auto=True),
        column("link_id", "bigint", ("bigint", 20)),
        column("kinds_id", "smallint", ("smallint", 21)),
    ]
    assert described(CHILD_TABLE) == [
        column("id", "integer", ("bigint", 20), pk=True, auto=True),
        column(CHILD_COLUMN, "varchar(30)", ("character varying(30)", 1043), max_length=30),
    ]


def test_primary_keys_and_sequences(schema: str) -> None:
    vendor = orm.connection.vendor
    for table in TABLES:
        assert intro().get_primary_key_columns(table) == ["id"]
        assert intro().get_primary_key_column(table) == "id"
        # SQLite: every table's id is INTEGER PRIMARY KEY AUTOINCREMENT;
        # PostgreSQL: an identity column, owning a sequence named after it.
        name = None if vendor == "sqlite" else f"{table}_id_seq"
        assert intro().get_sequences(table) == [SequenceInfo(table=table, column="id", name=name)]


# ------------------------------------------------------------- constraints


def test_indexes_and_constraints_of_a_model(schema: str) -> None:
    vendor = orm.connection.vendor
    table = "i12_rules"
    if vendor == "sqlite":
        declared = {
            "sqlite_autoindex_i12_rules_1": unique("sku"),
            "sqlite_autoindex_i12_rules_2": unique("low", "high"),
            "__unnamed_constraint_1__": check(["score"], '"score" >= 0'),
            "i12_rules_range": check(["low", "high"], '"high" >= "low"'),
        }
        conditions = ('"score" > 0', '"score" = 0')
    else:
        declared = {
            "i12_rules_sku_key": unique("sku"),
            "i12_rules_low_high_key": unique("low", "high"),
            "i12_rules_score_check": check(["score"], "(score >= 0)"),
            "i12_rules_range": check(["low", "high"], "(high >= low)"),
        }
        conditions = ("(score > 0)", "(score = 0)")
    assert without_index_sql(intro().get_constraints(table)) == {
        **pk(vendor, table),
        **declared,
        **like(vendor, table, "sku"),
        auto_name(table, ["rank"], "idx"): index("rank"),
        "i12_rules_rank_low": index("rank", "low", orders=["DESC", "ASC"]),
        "i12_rules_note_scored": index("note", condition=conditions[0]),
        auto_name(table, ["high"], "idx"): index("high"),
        "i12_rules_high_rank": unique("high", "rank"),
        "i12_rules_unscored": index("sku", "rank", unique=True, condition=conditions[1]),
    }


def test_column_checks_of_every_field_type(schema: str) -> None:
    vendor = orm.connection.vendor
    if vendor == "sqlite":
        declared = {
            "__unnamed_constraint_1__": check(["positive"], '"positive" >= 0'),
            "__unnamed_constraint_2__": check(["doc"], '(JSON_VALID("doc") OR "doc" IS NULL)'),
        }
    else:
        declared = {"i12_kinds_positive_check": check(["positive"], "(positive >= 0)")}
    assert without_index_sql(intro().get_constraints("i12_kinds")) == {
        **pk(vendor, "i12_kinds"),
        **declared,
        # SlugField is indexed by default.
        auto_name("i12_kinds", ["slug"], "idx"): index("slug"),
        **like(vendor, "i12_kinds", "slug"),
    }


def test_foreign_keys_one_to_one_and_to_field(schema: str) -> None:
    vendor = orm.connection.vendor
    table = "i12_link"
    # SQLite numbers foreign keys as PRAGMA foreign_key_list does: last declared first.
    assert without_index_sql(intro().get_constraints(table)) == {
        **pk(vendor, table),
        **fk_and_index(vendor, table, "target_id", "i12_target", "id", "fk_2"),
        **fk_and_index(vendor, table, "code_ref", "i12_target", "code", "fk_1"),
        # A one-to-one is a unique foreign key: no separate index.
        **(
            {"sqlite_autoindex_i12_link_1": unique("rules_id")}
            if vendor == "sqlite"
            else {"i12_link_rules_id_key": unique("rules_id")}
        ),
        (auto_name(table, ["rules_id"], "fk") if vendor == "postgresql" else "fk_0"): fk(
            "rules_id", "i12_rules", "id"
        ),
    }
    assert intro().get_relations(table) == {
        "target_id": ("id", "i12_target"),
        "code_ref": ("code", "i12_target"),
        "rules_id": ("id", "i12_rules"),
    }


def test_many_to_many_join_table(schema: str) -> None:
    vendor = orm.connection.vendor
    table = "i12_link_kinds"
    assert without_index_sql(intro().get_constraints(table)) == {
        **pk(vendor, table),
        **fk_and_index(vendor, table, "link_id", "i12_link", "id", "fk_1"),
        **fk_and_index(vendor, table, "kinds_id", "i12_kinds", "id", "fk_0"),
        (
            "sqlite_autoindex_i12_link_kinds_1"
            if vendor == "sqlite"
            else "i12_link_kinds_link_id_kinds_id_key"
        ): unique("link_id", "kinds_id"),
    }
    assert intro().get_relations(table) == {
        "link_id": ("id", "i12_link"),
        "kinds_id": ("id", "i12_kinds"),
    }


def test_quoted_table_and_column_names(schema: str) -> None:
    vendor = orm.connection.vendor
    assert described(ODD_TABLE) == [
        column("id", "integer", ("bigint", 20), pk=True, auto=True),
        column(ODD_COLUMN, "varchar(30)", ("character varying(30)", 1043), max_length=30),
    ]
    if vendor == "sqlite":
        declared = {
            "sqlite_autoindex_i12_o\"d'd_1": unique(ODD_COLUMN),
            "i12_odd_check": check([ODD_COLUMN], 'NOT ("la""b\'el" = \'it\'\'s "odd"\')'),
        }
    else:
        declared = {
            f"{ODD_TABLE}_{ODD_COLUMN}_key": unique(ODD_COLUMN),
            "i12_odd_check": check(
                [ODD_COLUMN], '(NOT (("la""b\'el")::text = \'it\'\'s "odd"\'::text))'
            ),
        }
    assert without_index_sql(intro().get_constraints(ODD_TABLE)) == {
        **pk(vendor, ODD_TABLE),
        **declared,
        **like(vendor, ODD_TABLE, ODD_COLUMN),
        auto_name(ODD_TABLE, [ODD_COLUMN], "idx"): index(ODD_COLUMN, orders=["DESC"]),
    }
    assert without_index_sql(intro().get_constraints(CHILD_TABLE)) == {
        **pk(vendor, CHILD_TABLE),
        # No LIKE index: create_tables gives one to text fields only, not to
        # a foreign key onto one.
        **fk_and_index(vendor, CHILD_TABLE, CHILD_COLUMN, ODD_TABLE, ODD_COLUMN, "fk_0"),
    }
    assert intro().get_relations(CHILD_TABLE) == {CHILD_COLUMN: (ODD_COLUMN, ODD_TABLE)}
    assert intro().get_primary_key_columns(ODD_TABLE) == ["id"]


def test_index_definitions(schema: str) -> None:
    """``definition`` of an index is the statement the database keeps for it."""
    constraints = intro().get_constraints("i12_rules")
    definition = constraints["i12_rules_unscored"].definition
    if orm.connection.vendor == "sqlite":
        # The statement create_tables ran, as SQLite stored it.
        assert definition == (
            'CREATE UNIQUE INDEX "i12_rules_unscored" ON "i12_rules" ("sku", "rank") '
            'WHERE "score" = 0'
        )
        odd = auto_name(ODD_TABLE, [ODD_COLUMN], "idx")
        quoted = odd.replace('"', '""')
        assert intro().get_constraints(ODD_TABLE)[odd].definition == (
            f'CREATE INDEX "{quoted}" ON "i12_o""d\'d" ("la""b\'el" DESC)'
        )
    else:
        assert definition == (
            "CREATE UNIQUE INDEX i12_rules_unscored ON public.i12_rules USING btree (sku, rank) "
            "WHERE (score = 0)"
        )
        like_index = auto_name("i12_rules", ["sku"], "like")
        assert constraints[like_index].definition == (
            f"CREATE INDEX {like_index} ON public.i12_rules USING btree (sku varchar_pattern_ops)"
        )


# ---------------------------------------------- tables not made by create_tables


def test_hand_written_table(backend: str) -> None:
    """Named primary key over two columns, foreign key actions, defaults, a collation."""
    vendor = backend
    collation = "NOCASE" if vendor == "sqlite" else "C"
    deferrable = "DEFERRABLE INITIALLY IMMEDIATE" if vendor == "sqlite" else "DEFERRABLE"
    orm.create_tables(Target)
    with orm.connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE "i12_raw" ('
            ' "a" integer NOT NULL, "b" integer NOT NULL, -- a comment, with a comma\n'
            f' "c" varchar(5) COLLATE "{collation}" NOT NULL DEFAULT \'x,y\','
            ' "d" integer NULL DEFAULT 5,'
            ' CONSTRAINT "i12_raw_key" PRIMARY KEY ("a", "b"),'
            ' CONSTRAINT "i12_raw_fk" FOREIGN KEY ("d") REFERENCES "i12_target" ("id")'
            f"  ON DELETE CASCADE ON UPDATE SET NULL {deferrable},"
            ' CONSTRAINT "i12_raw_order" CHECK ("b" > "a"))',
            [],
        )
    described = intro().get_table_description("i12_raw")
    assert [(c.name, c.null_ok, c.pk, c.is_autofield) for c in described] == [
        ("a", False, True, False),
        ("b", False, True, False),
        ("c", False, False, False),
        ("d", True, False, False),
    ]
    assert described[2].collation == collation
    assert described[2].default == ("'x,y'" if vendor == "sqlite" else "'x,y'::character varying")
    assert described[3].default == "5"
    assert intro().get_primary_key_columns("i12_raw") == ["a", "b"]
    assert intro().get_sequences("i12_raw") == []
    assert intro().get_constraints("i12_raw") == {
        "i12_raw_fk": ConstraintInfo(
            columns=["d"],
            foreign_key=("i12_target", "id"),
            on_delete="CASCADE",
            on_update="SET NULL",
            deferrable=True,
            initially_deferred=False,
        ),
        "i12_raw_key": ConstraintInfo(columns=["a", "b"], primary_key=True, unique=True),
        "i12_raw_order": check(["a", "b"], '"b" > "a"' if vendor == "sqlite" else "(b > a)"),
    }


def test_generated_key_without_autoincrement(backend: str) -> None:
    """A key the database numbers without a counter of its own (SQLite) or with serial."""
    key = "integer PRIMARY KEY" if backend == "sqlite" else "serial PRIMARY KEY"
    with orm.connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "i12_plain" ("n" {key}, "v" text)', [])
    [n, v] = intro().get_table_description("i12_plain")
    assert (n.pk, n.is_autofield, v.is_autofield) == (True, True, False)
    sequences = intro().get_sequences("i12_plain")
    if backend == "sqlite":
        # Without AUTOINCREMENT there is no sqlite_sequence counter to report.
        assert sequences == []
    else:
        assert n.default == "nextval('i12_plain_n_seq'::regclass)"
        assert sequences == [SequenceInfo(table="i12_plain", column="n", name="i12_plain_n_seq")]


# ------------------------------------------------------------ transactions


def driver_in_transaction() -> bool:
    """Whether the driver connection has a transaction open right now."""
    conn = orm.connection.connection
    if orm.connection.vendor == "sqlite":
        return bool(conn.in_transaction)
    from psycopg.pq import TransactionStatus

    return bool(conn.info.transaction_status != TransactionStatus.IDLE)


def introspect_everything(table: str) -> None:
    intro().table_names(include_views=True)
    intro().get_table_description(table)
    intro().get_constraints(table)
    intro().get_relations(table)
    intro().get_primary_key_columns(table)
    intro().get_sequences(table)


def test_leaves_no_transaction_open(schema: str) -> None:
    for table in TABLES:
        introspect_everything(table)
        assert not driver_in_transaction()
    assert orm.transaction.get_autocommit()
    with pytest.raises(orm.ProgrammingError):
        intro().get_constraints("i12_missing")
    assert not driver_in_transaction()


def test_inside_atomic_sees_the_blocks_ddl_and_keeps_it_usable(schema: str) -> None:
    class Undo(Exception):
        pass

    with pytest.raises(Undo), orm.transaction.atomic():
        with orm.connection.cursor() as cursor:
            cursor.execute('CREATE TABLE "i12_new" ("x" integer NOT NULL UNIQUE)', [])
        assert "i12_new" in intro().table_names()
        introspect_everything("i12_new")
        # A missing table is refused in Python: the block is not poisoned.
        with pytest.raises(orm.ProgrammingError):
            intro().get_table_description("i12_missing")
        Target.objects.create(code="in-block")
        assert orm.connection.in_atomic_block and not orm.connection.needs_rollback
        raise Undo  # roll the block back
    assert "i12_new" not in intro().table_names()
    assert not Target.objects.exists()
    with orm.transaction.atomic():
        assert [c.name for c in intro().get_table_description("i12_target")] == ["id", "code"]
        Target.objects.create(code="after")
    assert Target.objects.get().code == "after"


async def test_async_code_runs_it_through_sync_to_async(schema: str) -> None:
    def names() -> list[str]:
        return list(orm.connection.introspection.table_names())

    assert await orm.sync_to_async(names)() == sorted(TABLES)


# ------------------------------------------------------------------ errors


def test_unknown_table_is_a_clear_error(schema: str) -> None:
    for method in (
        "get_table_description",
        "get_constraints",
        "get_relations",
        "get_primary_key_columns",
        "get_primary_key_column",
        "get_sequences",
    ):
        with pytest.raises(orm.ProgrammingError, match="Table 'i12_missing' does not exist"):
            getattr(intro(), method)("i12_missing")


def test_a_table_name_that_is_not_a_str_is_refused(schema: str) -> None:
    # Django's methods take a cursor first; orm's open their own.
    with orm.connection.cursor() as cursor, pytest.raises(TypeError, match="open their own cursor"):
        intro().get_constraints(cursor)
    for bad in (None, "", b"i12_rules"):
        with pytest.raises(TypeError, match="must be a non-empty str"):
            intro().get_table_description(bad)


# ------------------------------------------- compile-only: names stay parameters

HOSTILE = 'i12_x\'); DROP TABLE "i12_target"; --%s%%'


class RecordingCursor:
    """Records each statement; answers the table lookup so every method runs to the end."""

    def __init__(self, log: list[tuple[str, list[Any]]], vendor: str) -> None:
        self.log, self.vendor, self.rows = log, vendor, []

    def __enter__(self) -> RecordingCursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def execute(self, sql: str, params: list[Any]) -> None:
        self.log.append((sql, list(params)))
        self.rows = []
        if self.vendor == "postgresql" and "c.oid::bigint" in sql:
            self.rows = [(16384,)]
        elif self.vendor == "sqlite" and "FROM sqlite_master" in sql and "type, sql" in sql:
            quoted = '"' + HOSTILE.replace('"', '""') + '"'
            self.rows = [(HOSTILE, "table", f'CREATE TABLE {quoted} ("id" integer)')]

    def fetchall(self) -> list[Any]:
        return self.rows


class RecordingConnection:
    def __init__(self, vendor: str) -> None:
        self.vendor, self.alias, self.log = vendor, "default", []

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self.log, self.vendor)


@pytest.mark.parametrize("vendor", ["sqlite", "postgresql"])
def test_table_names_travel_as_parameters(vendor: str) -> None:
    """No database: every statement a method sends, with a hostile table name."""
    if vendor == "sqlite":
        from orm.backends.sqlite.introspection import DatabaseIntrospection
    else:
        from orm.backends.postgresql.introspection import DatabaseIntrospection
    connection = RecordingConnection(vendor)
    introspection = DatabaseIntrospection(connection)
    introspect = (
        introspection.get_table_description,
        introspection.get_constraints,
        introspection.get_relations,
        introspection.get_primary_key_columns,
        introspection.get_sequences,
    )
    for method in introspect:
        connection.log.clear()
        method(HOSTILE)
        assert connection.log, method
        for sql, params in connection.log:
            assert "DROP" not in sql and "i12_x" not in sql, (method, sql)
            # Placeholders only; each one bound to the name or to the table's OID.
            assert sql.count("%s") == len(params), (method, sql)
            assert all(p == HOSTILE or p == 16384 for p in params), (method, params)
        assert connection.log[0][1] == [HOSTILE]
