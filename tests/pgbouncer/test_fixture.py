"""The ``pgbouncer`` fixture skips without the binary, or fails when CI requires it."""

from __future__ import annotations

import shutil

import pytest

from tests.pgbouncer import conftest


def _no_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)


def test_missing_binary_skips_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_binary(monkeypatch)
    monkeypatch.delenv(conftest.REQUIRE_PGBOUNCER_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y pgbouncer"):
        conftest._binary()


def test_missing_binary_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_binary(monkeypatch)
    monkeypatch.setenv(conftest.REQUIRE_PGBOUNCER_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="ORM_REQUIRE_PGBOUNCER=1"):
        conftest._binary()
