"""Questioners: what the autodetector asks when a model change is ambiguous.

The autodetector cannot tell a renamed field from a removed one plus an
added one, nor invent a value for the rows that exist when a NOT NULL field
without a default is added. It asks a questioner (Django's three kinds):

- :class:`MigrationQuestioner` never asks: it answers from ``defaults``
  (renames are "no", a missing default stays ``None``).
- :class:`InteractiveMigrationQuestioner` asks a person, through an input
  function that tests replace.
- :class:`NonInteractiveMigrationQuestioner` never asks either, and refuses
  (:class:`MigrationQuestionError`) where a guess would lose data or fail
  at ``migrate`` time.
"""

from __future__ import annotations

import datetime
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from orm.fields import NOT_PROVIDED
from orm.fields.temporal import now

if TYPE_CHECKING:
    from orm.fields.base import Field
    from orm.migrations.state import ModelState

__all__ = ["InteractiveMigrationQuestioner", "MigrationQuestionError", "MigrationQuestioner", "NonInteractiveMigrationQuestioner"]

# What a typed one-off default may use: ``timezone.now`` is orm's aware UTC now.
_DEFAULT_NAMESPACE: dict[str, Any] = {
    "datetime": datetime,
    "timezone": types.SimpleNamespace(now=now, utc=datetime.UTC),
}


class MigrationQuestionError(Exception):
    """A question the autodetector asked got no usable answer: making
    migrations stops, nothing is written. The message says how to go on."""


class MigrationQuestioner:
    """Answers every question without asking, from ``defaults``.

    ``defaults`` maps question names (``"ask_rename"``, ``"ask_rename_model"``,
    ``"ask_initial"``, ``"ask_merge"``) to answers; ``specified_apps`` are the
    apps named on the command line (each always gets an initial migration);
    ``dry_run`` means nothing will be written (an interactive questioner then
    asks for no default).
    """

    def __init__(
        self, defaults: Mapping[str, Any] | None = None, specified_apps: Iterable[str] | None = None,
        dry_run: bool | None = None,
    ) -> None:
        self.defaults = dict(defaults or {})
        self.specified_apps = set(specified_apps or ())
        self.dry_run = bool(dry_run)
        #: Messages for the person running the command (printed by the caller).
        self.warnings: list[str] = []

    def ask_initial(self, app_label: str) -> bool:
        """Whether an app with no migration yet gets an initial one.

        Yes unless ``defaults["ask_initial"]`` says no: every app the settings
        list is meant to be migrated (Django looks for an empty
        ``migrations`` package instead; the loader decides which apps exist).
        """
        if app_label in self.specified_apps:
            return True
        return bool(self.defaults.get("ask_initial", True))

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        """The one-off value for existing rows when a NOT NULL field without a
        default is added; ``None`` here (``migrate`` will then fail on a table with rows)."""
        return None

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        """The one-off value for NULL rows when a field becomes NOT NULL;
        ``NOT_PROVIDED`` means "leave the rows to me"."""
        return NOT_PROVIDED

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field_instance: Field) -> bool:
        """Whether field ``old_name`` of ``model_name`` was renamed to ``new_name``."""
        return bool(self.defaults.get("ask_rename", False))

    def ask_rename_model(self, old_model_state: ModelState, new_model_state: ModelState) -> bool:
        """Whether model ``old_model_state`` was renamed to ``new_model_state``."""
        return bool(self.defaults.get("ask_rename_model", False))

    def ask_merge(self, app_label: str) -> bool:
        """Whether to write a merge migration for an app with two leaves."""
        return bool(self.defaults.get("ask_merge", False))

    def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> Any:
        """The one-off value for existing rows when an ``auto_now_add`` field is added."""
        return None

    def ask_unique_callable_default_addition(self, field_name: str, model_name: str) -> None:
        """Warn that a callable default of a unique field is called once for all rows;
        nothing to ask without a person."""
        return None


class InteractiveMigrationQuestioner(MigrationQuestioner):
    """Asks a person. ``input_func`` reads one answer (``input`` by default) and
    ``prompt_output`` receives the questions (``sys.stdout`` by default).

    End of input, Ctrl-C or typing ``exit`` at a prompt stops with
    :class:`MigrationQuestionError`.
    """

    def __init__(
        self, defaults: Mapping[str, Any] | None = None, specified_apps: Iterable[str] | None = None,
        dry_run: bool | None = None, prompt_output: TextIO | None = None,
        input_func: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__(defaults, specified_apps, dry_run)
        self.prompt_output = prompt_output
        self.input_func = input_func or input

    # -- prompting ------------------------------------------------------------------
    def _write(self, text: str, ending: str = "\n") -> None:
        stream = self.prompt_output if self.prompt_output is not None else sys.stdout
        stream.write(text + ending)
        stream.flush()

    def _input(self) -> str:
        try:
            return self.input_func("")
        except (EOFError, KeyboardInterrupt):
            raise MigrationQuestionError(
                "Cancelled: no answer was given (end of input). Nothing was written; "
                "run again and answer, or use --no-input."
            ) from None

    def _boolean_input(self, question: str, default: bool | None = None) -> bool:
        self._write(f"{question} ", ending="")
        result = self._input().strip()
        if not result and default is not None:
            return default
        while not result or result[0].lower() not in "yn":
            self._write("Please answer yes or no: ", ending="")
            result = self._input().strip()
        return result[0].lower() == "y"

    def _choice_input(self, question: str, choices: list[str]) -> int:
        self._write(question)
        for number, choice in enumerate(choices, 1):
            self._write(f" {number}) {choice}")
        self._write("Select an option: ", ending="")
        while True:
            result = self._input().strip()
            if result.isdigit() and 0 < int(result) <= len(choices):
                return int(result)
            self._write("Please select a valid option: ", ending="")

    def _ask_default(self, default: str = "") -> Any:
        """A value typed as Python; ``datetime`` and ``timezone`` (``timezone.now``) are available."""
        self._write("Please enter the default value as valid Python.")
        if default:
            self._write(f"Accept the default '{default}' by pressing 'Enter' or provide another value.")
        self._write("The datetime module and timezone.now (aware UTC now) are available, "
                    "so it is possible to provide e.g. timezone.now as a value.")
        self._write("Type 'exit' to exit this prompt")
        while True:
            self._write(f"[default: {default}] >>> " if default else ">>> ", ending="")
            code = self._input().strip() or default
            if not code:
                self._write("Please enter some code, or 'exit' (without quotes) to exit.")
            elif code == "exit":
                raise MigrationQuestionError("Cancelled at the default prompt; nothing was written.")
            else:
                try:
                    # The developer types this at their own terminal, as in Django.
                    return eval(code, {}, dict(_DEFAULT_NAMESPACE))  # noqa: S307
                except Exception as exc:  # report and ask again, whatever the typo was
                    self._write(f"{type(exc).__name__}: {exc}")

    # -- questions ------------------------------------------------------------------
    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        """Offer a one-off default or quitting (``MigrationQuestionError``)."""
        if self.dry_run:
            return None
        choice = self._choice_input(
            f"It is impossible to add a non-nullable field '{field_name}' to {model_name} without "
            "specifying a default. This is because the database needs something to populate "
            "existing rows.\nPlease select a fix:",
            ["Provide a one-off default now (will be set on all existing rows with a null value "
             "for this column)",
             "Quit and manually define a default value (or null=True) on the field."],
        )
        if choice == 2:
            raise _not_null_refusal(field_name, model_name)
        return self._ask_default()

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        """Offer a one-off default, leaving the NULL rows to a data migration, or quitting."""
        if self.dry_run:
            return NOT_PROVIDED
        choice = self._choice_input(
            f"It is impossible to change a nullable field '{field_name}' on {model_name} to "
            "non-nullable without providing a default. This is because the database needs "
            "something to populate existing rows.\nPlease select a fix:",
            ["Provide a one-off default now (will be set on all existing rows with a null value "
             "for this column)",
             "Ignore for now. Existing rows that contain NULL values will have to be handled "
             "manually, for example with a RunPython or RunSQL operation.",
             "Quit and manually define a default value on the field."],
        )
        if choice == 2:
            return NOT_PROVIDED
        if choice == 3:
            raise MigrationQuestionError(
                f"Stopped: give {model_name}.{field_name} a default, then make migrations again.")
        return self._ask_default()

    def ask_rename(self, model_name: str, old_name: str, new_name: str, field_instance: Field) -> bool:
        """Ask ``Was book.title renamed to book.name (a CharField)? [y/N]``."""
        kind = type(field_instance).__name__
        return self._boolean_input(
            f"Was {model_name}.{old_name} renamed to {model_name}.{new_name} (a {kind})? [y/N]", False)

    def ask_rename_model(self, old_model_state: ModelState, new_model_state: ModelState) -> bool:
        """Ask ``Was the model shop.Author renamed to Writer? [y/N]``."""
        return self._boolean_input(
            f"Was the model {old_model_state.app_label}.{old_model_state.name} renamed to "
            f"{new_model_state.name}? [y/N]", False)

    def ask_merge(self, app_label: str) -> bool:
        """Ask whether to merge the branches printed above."""
        return self._boolean_input(
            "Merging will only work if the operations printed above do not conflict with each "
            "other (working on different fields or models).\nShould these migration branches be "
            "merged? [y/N]", False)

    def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> Any:
        """Offer a one-off default (``timezone.now`` by default) or quitting."""
        if self.dry_run:
            return None
        choice = self._choice_input(
            f"It is impossible to add the field '{field_name}' with 'auto_now_add=True' to "
            f"{model_name} without providing a default. This is because the database needs "
            "something to populate existing rows.\n",
            ["Provide a one-off default now which will be set on all existing rows",
             "Quit and manually define a default value on the field."],
        )
        if choice == 2:
            raise _not_null_refusal(field_name, model_name)
        return self._ask_default(default="timezone.now")

    def ask_unique_callable_default_addition(self, field_name: str, model_name: str) -> None:
        """Warn, then go on or quit (``MigrationQuestionError``)."""
        if self.dry_run:
            return
        choice = self._choice_input(
            f"Callable default on unique field {model_name}.{field_name} will not generate "
            "unique values upon migrating.\nPlease choose how to proceed:\n",
            ["Continue making this migration as the first step in writing a manual migration "
             "to generate unique values.",
             "Quit and edit the field options."],
        )
        if choice == 2:
            raise MigrationQuestionError(
                f"Stopped: edit the options of {model_name}.{field_name}, then make migrations again.")


class NonInteractiveMigrationQuestioner(MigrationQuestioner):
    """Never asks (``--no-input``): a rename is a removal plus an addition, and a
    NOT NULL field without a default stops everything with
    :class:`MigrationQuestionError` naming the field and the two ways out."""

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        """Refuse: ``MigrationQuestionError`` naming the field and the two ways out."""
        raise _not_null_refusal(field_name, model_name)

    def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> Any:
        """Refuse, as for any NOT NULL field without a default."""
        raise _not_null_refusal(field_name, model_name)

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        """Write the change as it is and add a warning to :attr:`warnings`."""
        # As Django: the migration is written; rows holding NULL make it fail
        # at migrate time unless a data migration fills them first.
        self.warnings.append(
            f"Field '{field_name}' on model '{model_name}' was made non-nullable without a "
            "default; existing rows that contain NULL will make the migration fail: fill them "
            "with a RunPython or RunSQL operation first."
        )
        return NOT_PROVIDED


def _not_null_refusal(field_name: str, model_name: str) -> MigrationQuestionError:
    return MigrationQuestionError(
        f"It is impossible to add the non-nullable field '{field_name}' to {model_name} without "
        "specifying a default: the database needs a value for the rows that already exist. "
        f"Either give {model_name}.{field_name} a default (or null=True) in the model, or run "
        "makemigrations interactively (without --no-input) to type a one-off default."
    )
