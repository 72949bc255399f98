"""Models for the transaction tests (app ``txtests``); tables come from the ``tables`` fixture."""

from __future__ import annotations

import orm


class Account(orm.Model):
    name = orm.CharField(max_length=50, unique=True)
    balance = orm.IntegerField(default=0)

    class Meta:
        app_label = "txtests"


class Counter(orm.Model):
    value = orm.IntegerField(default=0)

    class Meta:
        app_label = "txtests"


class Entry(orm.Model):
    """One leg of a transfer: the per-account ledger."""

    account = orm.ForeignKey(Account, on_delete=orm.CASCADE, related_name="entries")
    amount = orm.IntegerField()

    class Meta:
        app_label = "txtests"


ALL_MODELS = (Account, Counter, Entry)
