"""The one place where a name becomes SQL text.

Every table, column and alias in generated SQL passes through
:func:`quote_name`, which doubles embedded quote characters (so a
``db_table='we"ird'`` still names exactly that table), and every
user-supplied alias passes :func:`check_alias` first, which refuses anything
that could end an identifier or start a comment even before quoting. Values
never come here: they travel as bound parameters.
"""

from __future__ import annotations

import re
from functools import lru_cache

from orm.utils.text import short_repr

__all__ = ["check_alias", "check_explain_option", "quote_name", "FORBIDDEN_ALIAS_RULE"]

FORBIDDEN_ALIAS_RULE = (
    "Aliases cannot contain whitespace, quotation marks, semicolons, hashes, "
    "dollar signs, periods, control characters or SQL comments, and cannot be empty."
)
# Whitespace, quotes, ';', '#', '$', '.', '--', '/*' and C0/C1 control characters.
_FORBIDDEN_ALIAS = re.compile(r"[\s'\"`;#$.\x00-\x1f\x7f-\x9f]|--|/\*")
_EXPLAIN_OPTION = re.compile(r"^[A-Za-z_]+$")


@lru_cache(maxsize=8192)
def quote_name(name: str, quote: str = '"') -> str:
    """Quote an identifier, doubling any embedded quote character.

    Already-quoted input is *not* special-cased: the name ``"a"`` (with its
    quotes) becomes an identifier whose name contains the quote characters.
    """
    if not isinstance(name, str):
        raise TypeError(f"Identifier must be a str, got {type(name).__name__}.")
    if "\x00" in name:
        raise ValueError(f"Identifier {short_repr(name)} contains a NUL character.")
    # '%' is doubled too: every statement passes through %s-placeholder
    # processing (sqlite's convert_query, psycopg), which turns '%%' back into '%'.
    return quote + name.replace(quote, quote + quote).replace("%", "%%") + quote


def check_alias(alias: object) -> str:
    """Return ``alias`` if it is safe as a user-chosen alias, else raise ``ValueError``."""
    if not isinstance(alias, str):
        raise TypeError(f"Alias must be a str, got {type(alias).__name__}.")
    if not alias or _FORBIDDEN_ALIAS.search(alias):
        raise ValueError(f"Invalid alias {short_repr(alias)}. {FORBIDDEN_ALIAS_RULE}")
    return alias


def check_explain_option(name: object, allowed: frozenset[str]) -> str:
    """Return the upper-cased EXPLAIN option if it is on the backend's allow-list."""
    if not isinstance(name, str) or not _EXPLAIN_OPTION.match(name):
        raise ValueError(f"Invalid EXPLAIN option name: {short_repr(name)}.")
    upper = name.upper()
    if upper not in allowed:
        raise ValueError(
            f"Unknown EXPLAIN option {short_repr(name)}; choose from: {', '.join(sorted(allowed))}."
        )
    return upper
