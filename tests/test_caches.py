"""The process-wide caches of compiled SQL stay bounded and are emptied by configure()."""

from __future__ import annotations

import orm
from orm.sql import compiler
from orm.utils.caches import BoundedCache
from tests.sql.models import Tag


def test_a_full_cache_is_emptied_before_it_grows() -> None:
    cache: BoundedCache[int, str] = BoundedCache("test", limit=3)
    for key in range(3):
        cache.put(key, str(key))
    assert len(cache) == 3
    cache.put(3, "3")
    assert dict(cache) == {3: "3"}


def test_configure_empties_the_compiled_sql_caches(tmp_path) -> None:
    orm.configure(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        orm.create_tables(Tag)
        Tag.objects.create(name="x")
        assert Tag.objects.filter(name="x").count() == 1
        assert list(Tag.objects.all()) != []
        assert len(compiler.STATEMENTS) == 2
        orm.configure(f"sqlite:///{tmp_path / 'b.sqlite3'}")
        assert len(compiler.STATEMENTS) == 0
    finally:
        orm.connections.close_all()
