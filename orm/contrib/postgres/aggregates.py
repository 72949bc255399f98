"""Django's ``django.contrib.postgres.aggregates`` import path for ``orm``.

``from orm.contrib.postgres.aggregates import ArrayAgg, JSONBAgg, StringAgg`` keeps
Django code's imports working. Unlike Django's, these run on SQLite as well
(see "Collecting values" in docs/queries.md); they are also ``orm.ArrayAgg``, ...
"""

from orm.query.ordered_aggregates import ArrayAgg, JSONBAgg, StringAgg

__all__ = ["ArrayAgg", "JSONBAgg", "StringAgg"]
