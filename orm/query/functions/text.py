"""Text functions: Django's ``django.db.models.functions.text`` for SQLite and PostgreSQL.

Function names and templates are fixed per class; every value a caller passes
(a fill text, a length, a search string) is a bound parameter. Where SQLite
lacks a function (LPAD, REPEAT, REVERSE, MD5, SHA*), orm registers a Python
one on each connection (orm/backends/sqlite/functions.py) under the same name.
"""

from __future__ import annotations

import re
from typing import Any

from orm import fields as f
from orm.abc import Compiler, Connection
from orm.query.expressions import Func, Length, Lower, SQLParams, Upper, Value
from orm.query.lookups import Transform
from orm.utils.text import short_repr

_COLLATION = re.compile(r"^[\w-]+$")


def _check_positive_int(value: Any, name: str, allow_zero: bool) -> None:
    # Only literal ints are checked (as Django does); expressions reach the database.
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0 or (value == 0 and not allow_zero):
            bound = "greater or equal to 0" if allow_zero else "greater than 0"
            raise ValueError(f"'{name}' must be {bound}.")


class Chr(Transform):
    """The character with the given Unicode code point (``CHR``; ``CHAR`` on SQLite)."""

    function = "CHR"
    lookup_name = "chr"
    _output_field = f.TextField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self.as_sql(compiler, connection, function="CHAR")


class ConcatPair(Func):
    """Two text values joined; a NULL counts as an empty string (as Django's)."""

    function = "CONCAT"
    arity = 2

    def _resolve_output_field(self) -> f.Field | None:
        field = super()._resolve_output_field()
        return field if isinstance(field, (f.CharField, f.TextField)) else f.TextField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        parts, params = self._compiled(compiler)
        return " || ".join(f"COALESCE({part}, '')" for part in parts), params

    def as_postgresql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        # CONCAT takes "any": cast each argument so a bound string has a type.
        parts, params = self._compiled(compiler)
        return f"CONCAT({', '.join(f'({part})::text' for part in parts)})", params

    def _compiled(self, compiler: Compiler) -> tuple[list[str], list[Any]]:
        parts, params = [], []
        for expr in self.source_expressions:
            sql, p = compiler.compile(expr)
            parts.append(sql)
            params.extend(p)
        return parts, params


class Concat(Func):
    """Any number (two or more) of text values joined, NULLs as empty strings."""

    def __init__(self, *expressions: Any, output_field: f.Field | None = None) -> None:
        if len(expressions) < 2:
            raise ValueError("Concat must take at least two expressions")
        pair = ConcatPair(*expressions[-2:])
        for expr in reversed(expressions[:-2]):
            pair = ConcatPair(expr, pair)
        super().__init__(pair, output_field=output_field)

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return compiler.compile(self.source_expressions[0])


class Left(Func):
    """The first ``length`` characters."""

    function = "LEFT"
    arity = 2

    def __init__(self, expression: Any, length: Any, **extra: Any) -> None:
        _check_positive_int(length, "length", allow_zero=False)
        super().__init__(expression, length, **extra)

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return compiler.compile(Substr(self.source_expressions[0], 1, self.source_expressions[1]))


class Right(Left):
    """The last ``length`` characters."""

    function = "RIGHT"

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        expression, length = self.source_expressions
        sql, params = compiler.compile(expression)
        lsql, lparams = compiler.compile(length)
        # SUBSTR(x, -n) counts from the end; a longer n gives the whole text.
        return f"SUBSTR({sql}, -({lsql}))", params + lparams


class LPad(Func):
    """Text padded on the left with ``fill_text`` up to ``length`` (longer text is cut)."""

    function = "LPAD"
    arity = 3

    def __init__(self, expression: Any, length: Any, fill_text: Any = None, **extra: Any) -> None:
        _check_positive_int(length, "length", allow_zero=True)
        super().__init__(
            expression, length, Value(" ") if fill_text is None else fill_text, **extra
        )


class RPad(LPad):
    """Text padded on the right with ``fill_text`` up to ``length`` (longer text is cut)."""

    function = "RPAD"


class LTrim(Transform):
    """Text without leading spaces."""

    function = "LTRIM"
    lookup_name = "ltrim"


class RTrim(Transform):
    """Text without trailing spaces."""

    function = "RTRIM"
    lookup_name = "rtrim"


class Trim(Transform):
    """Text without leading and trailing spaces."""

    function = "TRIM"
    lookup_name = "trim"


class Ord(Transform):
    """The code point of the first character (``ASCII``; ``UNICODE`` on SQLite)."""

    function = "ASCII"
    lookup_name = "ord"
    _output_field = f.IntegerField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self.as_sql(compiler, connection, function="UNICODE")


class Repeat(Func):
    """Text repeated ``number`` times."""

    function = "REPEAT"
    arity = 2

    def __init__(self, expression: Any, number: Any, **extra: Any) -> None:
        _check_positive_int(number, "number", allow_zero=True)
        super().__init__(expression, number, **extra)


class Replace(Func):
    """Every occurrence of ``text`` replaced by ``replacement`` (removed by default)."""

    function = "REPLACE"
    arity = 3

    def __init__(self, expression: Any, text: Any, replacement: Any = None, **extra: Any) -> None:
        super().__init__(
            expression, text, Value("") if replacement is None else replacement, **extra
        )


class Reverse(Transform):
    """The characters in reverse order."""

    function = "REVERSE"
    lookup_name = "reverse"


class StrIndex(Func):
    """1-based position of ``substring`` in ``string``, 0 when absent."""

    function = "STRPOS"
    arity = 2
    _output_field = f.IntegerField()

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self.as_sql(compiler, connection, function="INSTR")


class Substr(Func):
    """``length`` characters from the 1-based position ``pos`` (to the end without ``length``)."""

    function = "SUBSTRING"

    def __init__(self, expression: Any, pos: Any, length: Any = None, **extra: Any) -> None:
        if isinstance(pos, int) and not isinstance(pos, bool) and pos <= 0:
            raise ValueError("'pos' must be greater than 0")
        expressions = [expression, pos] if length is None else [expression, pos, length]
        super().__init__(*expressions, **extra)

    def as_sqlite(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        return self.as_sql(compiler, connection, function="SUBSTR")


class MD5(Transform):
    """The MD5 digest of the text, as 32 hex digits."""

    function = "MD5"
    lookup_name = "md5"
    _output_field = f.CharField(max_length=32)


class _SHA(Transform):
    # PostgreSQL 11+ has sha224() ... sha512() over bytea; SHA1 needs pgcrypto's
    # digest(), as in Django. SQLite gets Python's hashlib (same hex digest).
    pg_template = "ENCODE(%(function)s(CONVERT_TO(%(expressions)s, 'UTF8')), 'hex')"

    def as_postgresql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.source_expressions[0])
        return self.pg_template % {"function": self.function, "expressions": sql}, params


class SHA1(_SHA):
    """The SHA-1 hex digest (PostgreSQL: needs the pgcrypto extension, as in Django)."""

    function = "SHA1"
    lookup_name = "sha1"
    pg_template = "ENCODE(DIGEST(%(expressions)s, 'sha1'), 'hex')"


class SHA224(_SHA):
    """The SHA-224 hex digest."""

    function = "SHA224"
    lookup_name = "sha224"


class SHA256(_SHA):
    """The SHA-256 hex digest."""

    function = "SHA256"
    lookup_name = "sha256"


class SHA384(_SHA):
    """The SHA-384 hex digest."""

    function = "SHA384"
    lookup_name = "sha384"


class SHA512(_SHA):
    """The SHA-512 hex digest."""

    function = "SHA512"
    lookup_name = "sha512"


class Collate(Func):
    """The expression under another collation: ``Collate("name", "nocase")``."""

    def __init__(self, expression: Any, collation: str) -> None:
        if not isinstance(collation, str) or not _COLLATION.match(collation):
            raise ValueError(f"Invalid collation name: {short_repr(collation)}.")
        self.collation = collation
        super().__init__(expression)

    def as_sql(self, compiler: Compiler, connection: Connection, **extra: Any) -> SQLParams:
        sql, params = compiler.compile(self.source_expressions[0])
        # The name matched [\w-]+ above and is quoted as an identifier.
        return f"{sql} COLLATE {compiler.quote_name(self.collation)}", params


__all__ = [
    "MD5",
    "SHA1",
    "SHA224",
    "SHA256",
    "SHA384",
    "SHA512",
    "Chr",
    "Collate",
    "Concat",
    "ConcatPair",
    "LPad",
    "LTrim",
    "Left",
    "Length",
    "Lower",
    "Ord",
    "RPad",
    "RTrim",
    "Repeat",
    "Replace",
    "Reverse",
    "Right",
    "StrIndex",
    "Substr",
    "Trim",
    "Upper",
]
