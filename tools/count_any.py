"""Count the parameters of orm/ annotated exactly ``Any`` (issue 12 item 2).

How it counts (ast, no import of the package): every parameter of every
``def``/``async def`` in every ``.py`` file under the given roots (default
``orm``), positional-only, positional, keyword-only, ``*args`` and ``**kwargs``,
except a first parameter named ``self`` or ``cls``. A parameter is "Any" when
its annotation is exactly the name ``Any`` (or ``typing.Any``), not when
``Any`` appears inside it (``list[Any]`` is not counted). ``*args: Any`` and
``**kwargs: Any`` are counted apart, because a pass-through signature is not a
seam. It also counts ``type: ignore[no-any-return]`` comments and all
``type: ignore`` comments.

Usage: ``python tools/count_any.py [root ...] [--by-name] [--by-file]``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?")


@dataclass
class Tally:
    """What was counted over a set of files."""

    params: int = 0
    any_params: int = 0
    star_params: int = 0
    any_star_params: int = 0
    ignores: int = 0
    no_any_return: int = 0
    by_name: Counter[str] = field(default_factory=Counter)
    by_file: Counter[str] = field(default_factory=Counter)


def _is_any(annotation: ast.expr | None) -> bool:
    if isinstance(annotation, ast.Name):
        return annotation.id == "Any"
    if isinstance(annotation, ast.Attribute):
        return annotation.attr == "Any" and isinstance(annotation.value, ast.Name)
    if isinstance(annotation, ast.Constant):
        # A string annotation ("Any") under `from __future__ import annotations` is
        # still an ast.Name; a quoted one is a Constant.
        return annotation.value == "Any"
    return False


def _count_function(node: ast.FunctionDef | ast.AsyncFunctionDef, path: str, tally: Tally) -> None:
    args = node.args
    plain = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if (
        plain
        and args.posonlyargs + args.args
        and (args.posonlyargs + args.args)[0].arg
        in (
            "self",
            "cls",
        )
    ):
        plain = plain[1:]
    for arg in plain:
        tally.params += 1
        if _is_any(arg.annotation):
            tally.any_params += 1
            tally.by_name[arg.arg] += 1
            tally.by_file[path] += 1
    for star in (args.vararg, args.kwarg):
        if star is not None:
            tally.star_params += 1
            tally.any_star_params += _is_any(star.annotation)


def count(roots: list[Path]) -> Tally:
    """Walk every Python file under ``roots`` and count."""
    tally = Tally()
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source, filename=str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    _count_function(node, str(path), tally)
            for match in _IGNORE.finditer(source):
                tally.ignores += 1
                tally.no_any_return += "no-any-return" in (match.group(1) or "")
    return tally


def main(argv: list[str]) -> int:
    """Print the counts; ``--by-name``/``--by-file`` add the top 25 of each."""
    roots = [Path(a) for a in argv if not a.startswith("--")] or [Path("orm")]
    tally = count(roots)
    share = 100 * tally.any_params / tally.params if tally.params else 0.0
    print(f"parameters (no self/cls, no *args/**kwargs): {tally.params}")
    print(f"  annotated exactly Any: {tally.any_params} ({share:.1f}%)")
    print(f"*args/**kwargs: {tally.star_params}, of them Any: {tally.any_star_params}")
    print(f"type: ignore comments: {tally.ignores}, of them no-any-return: {tally.no_any_return}")
    if "--by-name" in argv:
        for name, n in tally.by_name.most_common(25):
            print(f"  {n:5d}  {name}")
    if "--by-file" in argv:
        for name, n in tally.by_file.most_common(25):
            print(f"  {n:5d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
