"""The questioners (issue 14): what each asks, accepts and refuses.

Interactive answers come from an injected input function; prompts go to an
injected stream. The default questioner never asks; the non-interactive
one refuses a NOT NULL field without a default with a message naming the
field and both ways out.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

import orm
from orm.fields import NOT_PROVIDED
from orm.fields.temporal import now
from orm.migrations import (
    InteractiveMigrationQuestioner,
    MigrationQuestioner,
    MigrationQuestionError,
    NonInteractiveMigrationQuestioner,
)

# On PostgreSQL, real commits on an emptied schema (tests/conftest.py backend):
# migrations commit their DDL, several reconfigure orm.
pytestmark = pytest.mark.transactional


def interactive(*replies: str, dry_run: bool = False) -> tuple[InteractiveMigrationQuestioner, io.StringIO]:
    queue = list(replies)
    output = io.StringIO()

    def read(prompt: str) -> str:
        if not queue:
            raise AssertionError("asked more than the test answered")
        return queue.pop(0)

    return InteractiveMigrationQuestioner(prompt_output=output, input_func=read, dry_run=dry_run), output


def test_default_questioner_answers_from_defaults() -> None:
    plain = MigrationQuestioner()
    assert plain.ask_rename("book", "a", "b", orm.IntegerField()) is False
    assert plain.ask_rename_model(None, None) is False
    assert plain.ask_merge("shop") is False
    assert plain.ask_not_null_addition("pages", "Book") is None
    assert plain.ask_not_null_alteration("pages", "Book") is NOT_PROVIDED
    assert plain.ask_initial("shop") is True
    told = MigrationQuestioner({"ask_rename": True, "ask_rename_model": True, "ask_merge": True,
                                "ask_initial": False}, specified_apps=["press"])
    assert told.ask_rename("book", "a", "b", orm.IntegerField()) and told.ask_rename_model(None, None)
    assert told.ask_merge("shop")
    assert (told.ask_initial("shop"), told.ask_initial("press")) == (False, True)


def test_rename_question_loops_until_yes_or_no() -> None:
    questioner, output = interactive("maybe", "", "Yes")
    field = orm.CharField(max_length=5)
    assert questioner.ask_rename("book", "title", "name", field) is True
    text = output.getvalue()
    assert "Was book.title renamed to book.name (a CharField)? [y/N]" in text
    assert text.count("Please answer yes or no") == 2


def test_empty_answer_to_a_rename_means_no() -> None:
    questioner, _ = interactive("")
    assert questioner.ask_rename("book", "a", "b", orm.IntegerField()) is False


def test_one_off_default_accepts_python_with_datetime_and_timezone() -> None:
    questioner, output = interactive("1", "datetime.date(2020, 5, 17)")
    import datetime
    assert questioner.ask_not_null_addition("born", "Author") == datetime.date(2020, 5, 17)
    assert "impossible to add a non-nullable field 'born' to Author" in output.getvalue()
    questioner, _ = interactive("1", "timezone.now")
    assert questioner.ask_not_null_addition("born", "Author") is now


def test_exit_at_the_default_prompt_stops() -> None:
    questioner, _ = interactive("1", "exit")
    with pytest.raises(MigrationQuestionError, match="Cancelled"):
        questioner.ask_not_null_addition("born", "Author")


def test_not_null_alteration_choices() -> None:
    questioner, _ = interactive("2")
    assert questioner.ask_not_null_alteration("isbn", "Book") is NOT_PROVIDED
    questioner, _ = interactive("1", "'x'")
    assert questioner.ask_not_null_alteration("isbn", "Book") == "x"
    questioner, _ = interactive("3")
    with pytest.raises(MigrationQuestionError, match=r"Book\.isbn a default"):
        questioner.ask_not_null_alteration("isbn", "Book")


def test_auto_now_add_default_prompt_offers_timezone_now() -> None:
    questioner, output = interactive("1", "")
    assert questioner.ask_auto_now_add_addition("created", "Book") is now
    assert "[default: timezone.now]" in output.getvalue()


def test_unique_callable_default_can_go_on_or_stop() -> None:
    questioner, output = interactive("1")
    questioner.ask_unique_callable_default_addition("code", "Book")
    assert "will not generate unique values" in output.getvalue()
    questioner, _ = interactive("2")
    with pytest.raises(MigrationQuestionError, match="Book.code"):
        questioner.ask_unique_callable_default_addition("code", "Book")


def test_merge_question() -> None:
    questioner, _ = interactive("y")
    assert questioner.ask_merge("shop") is True


def test_dry_run_asks_for_no_default() -> None:
    questioner, _ = interactive(dry_run=True)
    assert questioner.ask_not_null_addition("pages", "Book") is None
    assert questioner.ask_not_null_alteration("pages", "Book") is NOT_PROVIDED
    assert questioner.ask_auto_now_add_addition("created", "Book") is None


@pytest.mark.parametrize("error", [EOFError, KeyboardInterrupt])
def test_no_input_cancels(error: type[BaseException]) -> None:
    def read(prompt: str) -> str:
        raise error

    questioner = InteractiveMigrationQuestioner(prompt_output=io.StringIO(), input_func=read)
    with pytest.raises(MigrationQuestionError, match="no answer"):
        questioner.ask_rename("book", "a", "b", orm.IntegerField())


@pytest.mark.parametrize("ask", [
    lambda q: q.ask_not_null_addition("pages", "Book"),
    lambda q: q.ask_auto_now_add_addition("pages", "Book"),
])
def test_non_interactive_refuses_not_null_without_default(
        ask: Callable[[NonInteractiveMigrationQuestioner], object]) -> None:
    with pytest.raises(MigrationQuestionError) as caught:
        ask(NonInteractiveMigrationQuestioner())
    message = str(caught.value)
    assert "'pages'" in message and "Book.pages a default (or null=True)" in message
    assert "interactively (without --no-input)" in message


def test_non_interactive_never_renames_and_warns_on_not_null_alteration() -> None:
    questioner = NonInteractiveMigrationQuestioner()
    assert questioner.ask_rename("book", "a", "b", orm.IntegerField()) is False
    assert questioner.ask_rename_model(None, None) is False
    assert questioner.ask_not_null_alteration("isbn", "Book") is NOT_PROVIDED
    assert len(questioner.warnings) == 1 and "'isbn'" in questioner.warnings[0]
