"""``create_tables`` / ``drop_tables`` (and their twins): DDL without migrations."""

from __future__ import annotations

from typing import Any

from orm.db.connections import DEFAULT_DB_ALIAS, connections
from orm.utils.asyncio import check_async_unsafe, to_async


def create_tables(*models: Any, using: str = DEFAULT_DB_ALIAS, if_not_exists: bool = False) -> None:
    """Create the tables, many-to-many tables, indexes and constraints of ``models``.

    Everything is created in one transaction; proxy models have no table
    and are skipped. With ``if_not_exists=True``,
    tables that already exist are skipped (left as they are, not compared)
    and the others created; concurrent calls wait for each other, so several
    processes may run it at start-up.
    """
    check_async_unsafe("orm.create_tables()", "acreate_tables()")
    _check_models(models)
    with connections[using].schema_editor() as editor:
        if if_not_exists:
            editor.lock_schema()
        for model in _with_tables(models):
            editor.create_model(model, if_not_exists=if_not_exists)


def drop_tables(*models: Any, using: str = DEFAULT_DB_ALIAS, if_exists: bool = False) -> None:
    """Drop the tables (and automatic many-to-many tables) of ``models``.

    With ``if_exists=True``, a table that does not exist is skipped.
    """
    check_async_unsafe("orm.drop_tables()", "adrop_tables()")
    _check_models(models)
    with connections[using].schema_editor() as editor:
        for model in _with_tables(models):
            editor.delete_model(model, if_exists=if_exists)


def _with_tables(models: tuple[Any, ...]) -> list[Any]:
    """``models`` without proxies: a proxy uses its concrete model's table, so
    creating or dropping it is a no-op (as ``migrate`` treats proxies in Django)."""
    return [model for model in models if not model._meta.proxy]


def _check_models(models: tuple[Any, ...]) -> None:
    for model in models:
        meta = getattr(model, "_meta", None)
        if meta is None or meta.abstract:
            raise TypeError(f"{model!r} is not a concrete model class.")
        for field in (*meta.fields, *meta.many_to_many):
            if field.is_relation and isinstance(field.remote_field.model, str):
                raise ValueError(
                    f"{meta.label}.{field.name} points at {field.remote_field.model!r}, which is "
                    "not defined yet; define (import) that model first."
                )


async def acreate_tables(
    *models: Any, using: str = DEFAULT_DB_ALIAS, if_not_exists: bool = False
) -> None:
    """Async twin of :func:`create_tables`."""
    return await to_async(create_tables)(*models, using=using, if_not_exists=if_not_exists)


async def adrop_tables(
    *models: Any, using: str = DEFAULT_DB_ALIAS, if_exists: bool = False
) -> None:
    """Async twin of :func:`drop_tables`."""
    return await to_async(drop_tables)(*models, using=using, if_exists=if_exists)
