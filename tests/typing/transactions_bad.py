"""Negative type checks for ``transaction.atomic``: each ``# E`` line must be reported.

Checked by ``tests/typing/test_typing.py``; never imported by the test run.
"""

from __future__ import annotations

import orm
from orm import transaction


class Account(orm.Model):
    balance = orm.IntegerField(default=0)

    class Meta:
        app_label = "typing_transactions_bad"


@transaction.atomic
def deposit(account: Account, amount: int) -> int:
    return amount


def check(account: Account) -> None:
    deposit(account, "ten")  # E
    label: str = deposit(account, 10)  # E
    transaction.atomic(using=5)  # E
    with transaction.atomic(durable="yes"):  # E
        print(label)
