"""Run the Python blocks of one page in order, in one fresh namespace.

The namespace is a module of its own (``docs_<page>.models``), so the page's models
belong to an application of that name (unless their Meta names another) and
are removed from the model registry afterwards. The blocks run
with a temporary folder as the working directory (a relative
``sqlite:///app.sqlite3`` lands there), after ``orm.configure()`` on a fresh
database there, which the page's own ``configure()`` calls may replace.

A block with a top-level ``await`` runs in a fresh event loop, as if typed at
``python -m asyncio``.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import itertools
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.docs.blocks import ROOT, Block


def page_module_name(path: Path) -> str:
    """``docs_queries`` for docs/queries.md, ``docs_reference_models`` for docs/reference/models.md."""
    relative = path.relative_to(ROOT).with_suffix("")
    parts = [p for p in relative.parts if p != "docs"]
    return "docs_" + re.sub(r"\W", "_", "_".join(parts)).lower()


def _shown_result(lines: list[str], statement: ast.stmt) -> str | None:
    """The ``# => value`` written after a top-level expression, if any.

    On the statement's last line, or alone on the line after it (``# =>``
    may be left out there before a list, dict, tuple or string literal).
    """
    end = statement.end_lineno or statement.lineno
    same = lines[end - 1].partition("# => ")
    if same[1]:
        return same[2].strip()
    following = lines[end] if end < len(lines) else ""
    if following.startswith("# => "):
        return following[len("# => ") :].strip()
    # A literal alone on the next line (a list, a dict, a tuple...) shows the value too.
    if following[:3] in _LITERAL_STARTS:
        return following[2:].strip()
    return None


_LITERAL_STARTS = {"# [", "# {", "# (", "# '", '# "'}


def _check_result(value: Any, shown: str, where: str) -> None:
    """``repr(value)`` must be what the page shows, or start it before a remark.

    ``# => 3`` and ``# => 3: read back with RETURNING`` both accept 3;
    ``...`` in the shown value matches anything.
    """
    actual = repr(value)
    if shown == actual or (shown.startswith(actual) and shown[len(actual)] in ":;, ("):
        return
    # "..." stands for a part that varies or is too long to show.
    pattern = ".*".join(re.escape(part) for part in shown.split("..."))
    if "..." in shown and re.fullmatch(pattern + r"(?:[:;, (].*)?", actual):
        return
    raise AssertionError(
        f"the example at {where} shows\n  # => {shown}\nbut the value is\n  {actual}"
    )


class _ShownResults(ast.NodeTransformer):
    # Rewrites `expr  # => shown` at the top level of a block into a call that
    # compares the value with what the page shows.
    def __init__(self, lines: list[str], where: str) -> None:
        self.lines, self.where = lines, where

    def visit_Module(self, node: ast.Module) -> ast.Module:
        for index, statement in enumerate(node.body):
            if not isinstance(statement, ast.Expr):
                continue
            shown = _shown_result(self.lines, statement)
            if shown is None:
                continue
            line = statement.lineno
            call = ast.Call(
                func=ast.Name("__docs_check_result__", ast.Load()),
                args=[statement.value, ast.Constant(shown), ast.Constant(f"{self.where}+{line}")],
                keywords=[],
            )
            node.body[index] = ast.copy_location(ast.Expr(call), statement)
        return ast.fix_missing_locations(node)


def _run_block(block: Block, namespace: dict[str, Any], source: str) -> None:
    tree = ast.parse(source, block.where)
    tree = _ShownResults(source.splitlines(), block.where).visit(tree)
    namespace["__docs_check_result__"] = _check_result
    code = compile(tree, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        result = eval(code, namespace)  # noqa: S307 - the page's own example code
        asyncio.run(result)
    else:
        exec(code, namespace)  # noqa: S102 - the page's own example code


def _is_named(error: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(error).__mro__)


def _check_message(block: Block, error: BaseException) -> None:
    """The block's ``# Name: message`` comment, if any, must match the error.

    A message ending in ``...`` is a prefix (the rest is long or varies).
    """
    lines = block.source.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"# {block.raises}: ")]
    if not starts:
        return
    # A long message goes on over the comment lines that follow.
    parts = [lines[starts[-1]][len(block.raises) + 4 :]]
    parts += [
        line[2:]
        for line in itertools.takewhile(lambda x: x.startswith("# "), lines[starts[-1] + 1 :])
    ]
    expected = " ".join(parts)
    actual = str(error)
    matches = (
        actual.startswith(expected[:-3].rstrip())
        if expected.endswith("...")
        else actual == expected
    )
    if not matches:
        raise AssertionError(
            f"the example at {block.where} shows the message\n  {expected}\nbut the error says\n  {actual}"
        )


_LOGGERS = ("", "orm", "orm.db")


def _logging_state() -> list[tuple[logging.Logger, int, list[logging.Handler]]]:
    # Pages show logging.basicConfig(level=DEBUG) and the like: undo it after
    # the page, or every later test would log every statement.
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    return [(logger, logger.level, list(logger.handlers)) for logger in loggers]


def _restore_logging(state: list[tuple[logging.Logger, int, list[logging.Handler]]]) -> None:
    for logger, level, handlers in state:
        logger.setLevel(level)
        for handler in logger.handlers[:]:
            if handler not in handlers:
                logger.removeHandler(handler)


def _lookup_state() -> dict[type, dict[str, Any] | None]:
    # Pages register custom lookups on field classes (Field.register_lookup):
    # class-wide state that would leak into every later test.
    from orm.fields.lookup_registry import RegisterLookupMixin

    state: dict[type, dict[str, Any] | None] = {}
    pending: list[type] = [RegisterLookupMixin]
    while pending:
        cls = pending.pop()
        own = cls.__dict__.get("class_lookups")
        state[cls] = dict(own) if own is not None else None
        pending.extend(cls.__subclasses__())
    return state


def _restore_lookups(state: dict[type, dict[str, Any] | None]) -> None:
    from orm.fields import lookup_registry

    for cls, own in state.items():
        if own is None:
            if "class_lookups" in cls.__dict__:
                delattr(cls, "class_lookups")
        else:
            cls.class_lookups = own  # type: ignore[attr-defined]
    lookup_registry._CLASS_TABLES.clear()


def _signal_state(apps: Any) -> tuple[dict[Any, list[Any]], dict[Any, list[Any]]]:
    # Pages connect receivers (@receiver(post_save, sender=Book), lazy senders
    # such as "shop.Book" waiting in the registry): keep them to the page.
    from orm import signals
    from orm.dispatch import Signal

    found = {s: list(s.receivers) for s in vars(signals).values() if isinstance(s, Signal)}
    pending = {key: list(ops) for key, ops in apps._pending_operations.items()}
    return found, pending


def _restore_signals(apps: Any, state: tuple[dict[Any, list[Any]], dict[Any, list[Any]]]) -> None:
    found, pending = state
    for signal, receivers in found.items():
        with signal.lock:
            signal.receivers = receivers
            signal.sender_receivers_cache.clear()
    apps._pending_operations.clear()
    apps._pending_operations.update(pending)


def _forget_models(apps: Any, module: str) -> None:
    # A page may name its own app_label (Meta.app_label = "shop"): remove the
    # page's models wherever they registered, so the next page may reuse names.
    for models in apps.all_models.values():
        for name in [n for n, m in models.items() if m.__module__ == module]:
            del models[name]
    apps.clear_cache()


def run_page(
    path: Path,
    blocks: Sequence[Block],
    workdir: Path,
    database_url: str,
    rewrite: Callable[[str], str] = lambda source: source,
) -> None:
    """Run ``blocks`` (of the page ``path``) in order; a failing block names its line.

    ``rewrite`` maps each block's source to the code that runs (the PostgreSQL
    run points the page's server URLs at the test server).
    """
    import orm
    from orm.models import registry

    app_label = page_module_name(path)
    # "<app>.models": models defined here get <app> as their app_label.
    module = f"{app_label}.models"
    namespace: dict[str, Any] = {"__name__": module}
    orm.configure(database_url)
    saved_logging = _logging_state()
    saved_lookups = _lookup_state()
    saved_signals = _signal_state(registry.apps)
    try:
        with contextlib.chdir(workdir):
            for block in blocks:
                try:
                    _run_block(block, namespace, rewrite(block.source))
                except Exception as error:
                    if block.raises and _is_named(error, block.raises):
                        _check_message(block, error)
                        continue
                    raise AssertionError(
                        f"the example at {block.where} failed: {type(error).__name__}: {error}"
                    ) from error
                if block.raises:
                    raise AssertionError(
                        f"the example at {block.where} should raise {block.raises}"
                    )
    finally:
        _restore_logging(saved_logging)
        _restore_lookups(saved_lookups)
        _restore_signals(registry.apps, saved_signals)
        orm.connections.close_all()
        _forget_models(registry.apps, module)
