"""Positive type checks: ``transaction.atomic`` as a decorator and as a block.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

from typing import assert_type

import orm
from orm import transaction


class Account(orm.Model):
    balance = orm.IntegerField(default=0)

    class Meta:
        app_label = "typing_transactions"


@transaction.atomic
def deposit(account: Account, amount: int) -> int:
    account.balance += amount
    account.save()
    return account.balance


@transaction.atomic(using="default", durable=True)
def close(account: Account) -> None:
    account.delete()


def sync_calls(account: Account) -> None:
    assert_type(deposit(account, 10), int)
    assert_type(close(account), None)
    block = transaction.atomic()
    assert_type(block, transaction.Atomic)
    with block:
        account.save()
    with transaction.atomic(savepoint=False):
        account.save()


async def async_calls(account: Account) -> None:
    assert_type(await orm.sync_to_async(deposit)(account, 5), int)
