"""Testing support: the pytest plugin and the test-isolation machinery behind it.

The plugin (``orm.testing.plugin``) is registered through the ``pytest11``
entry point, so installing `orm` makes its fixtures available: ``orm_db``,
``orm_transactional_db``, the ``orm_db`` marker, ``orm_database_urls``,
``orm_test_models``, ``orm_db_setup``, and from ``queries``
``orm_assert_num_queries`` and ``orm_capture_on_commit_callbacks`` (see
docs/testing.md). The work is
in ``isolation`` (the shared, rolled-back transaction; emptying tables) and
``databases`` (creating, configuring and dropping the test databases).
"""
