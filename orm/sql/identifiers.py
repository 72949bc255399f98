"""Re-export of :mod:`orm.utils.identifiers`, the one place where a name becomes SQL text.

The chokepoint moved to ``orm.utils`` (a leaf every layer may import); this
path stays so that existing imports keep working.
"""

from __future__ import annotations

from orm.utils.identifiers import (
    FORBIDDEN_ALIAS_RULE,
    check_alias,
    check_explain_option,
    quote_name,
)

__all__ = ["FORBIDDEN_ALIAS_RULE", "check_alias", "check_explain_option", "quote_name"]
