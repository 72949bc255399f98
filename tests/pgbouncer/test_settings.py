"""The ``pgbouncer=transaction`` URL option: parsing and what it changes (no server needed)."""

from __future__ import annotations

import pytest

import orm
from orm.backends.postgresql.base import DatabaseWrapper
from orm.conf import normalize_databases, parse_url

URL = "postgresql://app@db.example:6432/shop"


def wrapper(url: str) -> DatabaseWrapper:
    return DatabaseWrapper(parse_url(url), "default")


def test_transaction_mode_turns_off_prepared_statements_and_the_startup_option() -> None:
    conninfo, kwargs = wrapper(f"{URL}?pgbouncer=transaction")._pool_params()
    assert kwargs["prepare_threshold"] is None
    # PgBouncer refuses (or drops) libpq's 'options'; neither orm's option
    # nor its own name reaches libpq.
    assert "options" not in conninfo and "pgbouncer" not in conninfo


def test_without_the_option_statements_are_prepared_and_utc_is_a_startup_option() -> None:
    conninfo, kwargs = wrapper(URL)._pool_params()
    assert kwargs["prepare_threshold"] == 5
    assert "TimeZone=UTC" in conninfo


def test_an_explicit_prepare_threshold_wins_for_a_bouncer_that_tracks_statements() -> None:
    # PgBouncer 1.21+ with max_prepared_statements > 0 keeps them per client.
    _conninfo, kwargs = wrapper(f"{URL}?pgbouncer=transaction&prepare_threshold=3")._pool_params()
    assert kwargs["prepare_threshold"] == 3


@pytest.mark.parametrize("value", ["transaction", "Transaction", " transaction "])
def test_transaction_is_accepted_in_any_case(value: str) -> None:
    assert parse_url(f"{URL}?pgbouncer={value}").options["pgbouncer"] == "transaction"


@pytest.mark.parametrize("value", ["none", "off", ""])
def test_none_means_a_direct_connection(value: str) -> None:
    settings = parse_url(f"{URL}?pgbouncer={value}")
    assert settings.options["pgbouncer"] is None
    assert DatabaseWrapper(settings, "default").features.has_persistent_session


@pytest.mark.parametrize("value", ["session", "statement", "yes"])
def test_other_modes_are_refused_at_configure(value: str) -> None:
    with pytest.raises(orm.ImproperlyConfigured, match="pgbouncer=transaction"):
        parse_url(f"{URL}?pgbouncer={value}")


def test_options_cannot_reach_the_server_through_the_bouncer() -> None:
    with pytest.raises(orm.ImproperlyConfigured, match="ALTER ROLE"):
        parse_url(f"{URL}?pgbouncer=transaction&options=-c%20statement_timeout%3D5000")


def test_features_say_sessions_do_not_persist() -> None:
    assert not wrapper(f"{URL}?pgbouncer=transaction").features.has_persistent_session
    assert wrapper(URL).features.has_persistent_session


def test_a_replica_behind_the_bouncer_gets_no_startup_option() -> None:
    settings = normalize_databases(
        None,
        {
            "default": f"{URL}?pgbouncer=transaction",
            "replica": {"url": f"{URL}?pgbouncer=transaction", "replica_of": "default"},
        },
    )
    assert "options" not in settings["replica"].options
    direct = normalize_databases(
        None,
        {
            "default": URL,
            "replica": {"url": URL, "replica_of": "default"},
        },
    )
    assert "default_transaction_read_only=on" in direct["replica"].options["options"]
