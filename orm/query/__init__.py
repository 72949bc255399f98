"""The SQL-neutral query layer: QuerySet, Q/F/expressions, lookups, the Query tree."""
