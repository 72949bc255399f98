"""Testing support: the pytest plugin and the test-isolation machinery behind it.

The plugin (``orm.testing.plugin``) is registered through the ``pytest11``
entry point, so installing `orm` makes its fixtures available: ``orm_db``,
``orm_transactional_db``, the ``orm_db`` marker, ``orm_database_urls`` and
``orm_db_setup`` (see docs/testing.md).
"""
