"""Extract the Python code blocks of a Markdown page, with their markers.

A block is a fenced ```` ```python ```` (or ```` ```py ````) block, at any
indentation (inside a list item too). An HTML comment on the line just before
the fence, invisible on the rendered page, marks it:

- ``<!-- docs-test: postgresql -->``: needs PostgreSQL; it runs only in the
  PostgreSQL run of its page (when ``ORM_TEST_POSTGRES_URL`` is set).
- ``<!-- docs-test: raises NAME -->``: shows an error; it must raise the
  exception class ``NAME`` (or a subclass), so the documented error stays
  true; a ``# NAME: message`` comment in it must match the message.
  ``<!-- docs-test: postgresql raises NAME -->`` combines both.
- ``<!-- docs-test: skip: REASON -->``: a fragment that cannot run on its own
  (the rare opt-out); the reason is required.

Unmarked blocks run in order, in one namespace per page.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
PYTHON_LANGS = {"python", "py", "python3"}


@dataclass(frozen=True)
class Block:
    """One Python code block: where it starts, its source and its marker."""

    path: Path
    line: int  # 1-based line of the opening fence
    source: str
    postgres: bool = False  # runs only against PostgreSQL
    raises: str = ""  # the exception class the block must raise
    skip: str = ""  # why the block does not run at all

    @property
    def where(self) -> str:
        """``docs/page.md:LINE``, for messages."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _marker(previous: str, path: Path, line: int) -> dict[str, object]:
    match = MARKER.match(previous)
    if match is None:
        return {}
    body = match.group("body")
    if body.startswith("skip:") and body[len("skip:") :].strip():
        return {"skip": body[len("skip:") :].strip()}
    words = body.split()
    found: dict[str, object] = {}
    if words[:1] == ["postgresql"]:
        found["postgres"] = True
        words = words[1:]
    if len(words) == 2 and words[0] == "raises" and words[1].isidentifier():
        found["raises"] = words[1]
        words = []
    if words or not found:
        raise ValueError(
            f"{path.relative_to(ROOT)}:{line}: unknown docs-test marker {body!r}; use "
            "'<!-- docs-test: postgresql -->', '<!-- docs-test: raises ExceptionName -->' "
            "(or both: 'postgresql raises ExceptionName'), "
            "or '<!-- docs-test: skip: why it cannot run -->'"
        )
    return found


def python_blocks(path: Path) -> list[Block]:
    """Every Python block of the Markdown file ``path``, in page order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, start = match.group("indent"), i
        end = i + 1
        while end < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[end]):
            end += 1
        if match.group("lang").lower() in PYTHON_LANGS:
            previous = lines[start - 1] if start > 0 else ""
            marker = _marker(previous, path, start + 1)
            source = textwrap.dedent("\n".join(lines[start + 1 : end]))
            blocks.append(Block(path, start + 1, source + "\n", **marker))  # type: ignore[arg-type]
        i = end + 1
    return blocks


def documented_pages() -> list[Path]:
    """README.md and every Markdown page under docs/, sorted."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
