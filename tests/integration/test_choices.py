"""Choices (issue 16 item 2): the enum classes, every form of ``choices=``, display and validation.

Assertions mirror Django 5.2's ``django.db.models.enums`` and ``Field.choices``.
"""

from __future__ import annotations

import enum
import pickle
from typing import Any

import pytest

import orm
from orm.models.registry import Apps

APP = "i16_choices"


class Suit(orm.IntegerChoices):
    """Labels given as the last item of each member."""

    DIAMOND = 1, "Diamond"
    SPADE = 2, "Spade"
    HEART = 3, "Heart"
    CLUB = 4, "Club"


class YearInSchool(orm.TextChoices):
    """Labels given and derived (``GRADUATE``), and an empty choice."""

    FRESHMAN = "FR", "Freshman"
    SOPHOMORE = "SO", "Sophomore"
    GRADUATE = "GR"
    __empty__ = "(Unknown)"


class Vehicle(orm.IntegerChoices):
    """Labels derived from names with underscores."""

    CAR = 1
    MOTOR_CYCLE = 2


class Color(orm.TextChoices):
    """``enum.auto()`` gives the member's name."""

    RED = enum.auto()
    DARK_BLUE = enum.auto(), "Navy"


class Moon(orm.Choices):
    """A plain ``Choices`` with tuple values: the last str item is the label."""

    FULL = 1, 0.5, "Full moon"
    NEW = 2, 0.0, "New moon"


def colours() -> list[tuple[str, str]]:
    """A callable given as ``choices=``: called each time the choices are read."""
    return [("r", "Red"), ("g", "Green")]


def models() -> dict[str, Any]:
    apps = Apps()

    def meta() -> type:
        return type("Meta", (), {"app_label": APP, "apps": apps})

    card = type(
        "Card",
        (orm.Model,),
        {
            "__module__": __name__,
            "Meta": meta(),
            "suit": orm.IntegerField(choices=Suit, default=Suit.HEART),
            "year": orm.CharField(max_length=2, choices=YearInSchool.choices, blank=True),
            "size": orm.CharField(max_length=1, choices={"s": "Small", "l": "Large"}, default="s"),
            "media": orm.CharField(
                max_length=10,
                blank=True,
                choices=[
                    ("Audio", (("vinyl", "Vinyl"), ("cd", "CD"))),
                    ("Video", [("vhs", "VHS Tape"), ("dvd", "DVD")]),
                    ("unknown", "Unknown"),
                ],
            ),
            "colour": orm.CharField(max_length=1, choices=colours, default="r"),
            "plain": orm.IntegerField(default=0),
        },
    )
    return {"Card": card}


# ------------------------------------------------------------------ the enum classes


def test_integer_choices_members_values_labels_and_names() -> None:
    assert Suit.choices == [(1, "Diamond"), (2, "Spade"), (3, "Heart"), (4, "Club")]
    assert Suit.labels == ["Diamond", "Spade", "Heart", "Club"]
    assert Suit.values == [1, 2, 3, 4]
    assert Suit.names == ["DIAMOND", "SPADE", "HEART", "CLUB"]
    assert Suit.HEART == 3 and Suit(3) is Suit.HEART and Suit["CLUB"] is Suit.CLUB
    assert Suit.HEART.label == "Heart" and Suit.HEART.value == 3
    assert isinstance(Suit.HEART, int)
    assert repr(Suit.HEART) == "Suit.HEART"
    assert str(Suit.HEART) == "3"  # as Django: str() is the value
    assert 3 in Suit and 9 not in Suit and Suit.SPADE in Suit
    assert Suit.do_not_call_in_templates is True
    assert "do_not_call_in_templates" not in Suit.__members__


def test_text_choices_labels_from_names_and_the_empty_choice() -> None:
    assert YearInSchool.choices == [
        (None, "(Unknown)"),
        ("FR", "Freshman"),
        ("SO", "Sophomore"),
        ("GR", "Graduate"),
    ]
    assert YearInSchool.GRADUATE.label == "Graduate"  # label from the name, title-cased
    assert YearInSchool.names == ["__empty__", "FRESHMAN", "SOPHOMORE", "GRADUATE"]
    assert YearInSchool.values == [None, "FR", "SO", "GR"]
    assert YearInSchool.labels == ["(Unknown)", "Freshman", "Sophomore", "Graduate"]
    assert str(YearInSchool.FRESHMAN) == "FR" and f"{YearInSchool.FRESHMAN}" == "FR"
    assert YearInSchool.FRESHMAN == "FR" and "FR" in YearInSchool and "XX" not in YearInSchool
    assert Vehicle.choices == [(1, "Car"), (2, "Motor Cycle")]
    assert Color.choices == [("RED", "Red"), ("DARK_BLUE", "Navy")]


def test_plain_choices_with_tuple_values() -> None:
    assert Moon.FULL.value == (1, 0.5) and Moon.FULL.label == "Full moon"
    assert Moon.choices == [((1, 0.5), "Full moon"), ((2, 0.0), "New moon")]


def test_members_pickle_to_themselves() -> None:
    assert pickle.loads(pickle.dumps(Suit.CLUB)) is Suit.CLUB
    assert pickle.loads(pickle.dumps(YearInSchool.SOPHOMORE)) is YearInSchool.SOPHOMORE


def test_duplicate_values_are_refused_as_django_does() -> None:
    with pytest.raises(ValueError, match="duplicate values found"):

        class Dup(orm.IntegerChoices):
            A = 1
            B = 1


def test_choices_are_also_under_orm_models() -> None:
    from orm import models

    assert models.TextChoices is orm.TextChoices
    assert models.IntegerChoices is orm.IntegerChoices
    assert models.Choices is orm.Choices


# ------------------------------------------------------------------ normalization


def test_every_form_of_choices_is_normalized() -> None:
    assert orm.IntegerField(choices=Suit).choices == Suit.choices
    assert orm.CharField(max_length=1, choices={"a": "A", "b": "B"}).choices == [
        ("a", "A"),
        ("b", "B"),
    ]
    grouped = orm.CharField(max_length=5, choices={"Audio": {"cd": "CD"}, "x": "X"})
    assert grouped.choices == [("Audio", [("cd", "CD")]), ("x", "X")]
    assert grouped.flatchoices == [("cd", "CD"), ("x", "X")]
    assert orm.IntegerField(choices=iter([(1, "one")])).choices == [(1, "one")]
    assert orm.IntegerField(choices=((1, "one"),)).choices == [(1, "one")]
    assert orm.IntegerField().choices is None


def test_a_callable_stays_lazy() -> None:
    calls: list[int] = []

    def make() -> dict[int, str]:
        calls.append(1)
        return {1: "one"}

    field = orm.IntegerField(choices=make)
    assert calls == []
    assert list(field.choices) == [(1, "one")] and field.choices == [(1, "one")]
    assert field.choices[0] == (1, "one")
    assert len(calls) >= 2  # each read calls it again
    assert field.deconstruct()[3] == {"choices": make}


def test_enum_choices_deconstruct_to_the_list() -> None:
    assert orm.IntegerField(choices=Suit).deconstruct()[3] == {"choices": Suit.choices}
    assert orm.CharField(max_length=1, choices={"a": "A"}).deconstruct()[3] == {
        "max_length": 1,
        "choices": [("a", "A")],
    }


@pytest.mark.parametrize("bad", ["ab", [1, 2], [(1, "a", "b")], [("g", ["x", "y"])], 5])
def test_malformed_choices_are_refused_with_the_expected_shape(bad: Any) -> None:
    with pytest.raises(TypeError, match=r"'choices' must be a mapping of actual values"):
        orm.IntegerField(choices=bad)


# ------------------------------------------------------------------ on a model


def test_get_foo_display(db: str) -> None:
    card_model = models()["Card"]
    orm.create_tables(card_model)
    card = card_model.objects.create(year="SO", media="dvd", size="l")
    card = card_model.objects.get(pk=card.pk)
    assert card.get_suit_display() == "Heart"
    assert card.get_year_display() == "Sophomore"
    assert card.get_size_display() == "Large"
    assert card.get_media_display() == "DVD"  # inside a group
    assert card.get_colour_display() == "Red"  # from the callable
    card.media = "unknown"
    assert card.get_media_display() == "Unknown"
    card.suit = 42
    assert card.get_suit_display() == 42  # not a choice: the value itself
    card.year = ""
    assert card.get_year_display() == ""
    card.year = None
    assert card.get_year_display() == "(Unknown)"  # the __empty__ label
    assert not hasattr(card, "get_plain_display")
    assert card_model.objects.filter(suit=Suit.HEART).count() == 1
    assert card_model.objects.get(pk=card.pk).suit == Suit.HEART


def test_a_get_foo_display_written_on_the_class_is_kept() -> None:
    registry = Apps()

    class Custom(orm.Model):
        kind = orm.CharField(max_length=1, choices={"a": "A"})

        class Meta:
            app_label = APP
            apps = registry

        def get_kind_display(self) -> str:
            return "mine"

    assert Custom(kind="a").get_kind_display() == "mine"


def test_full_clean_refuses_a_value_not_among_the_choices(db: str) -> None:
    card_model = models()["Card"]
    card = card_model(suit=9, year="XX", media="Audio", size="l", colour="b")
    with pytest.raises(orm.ValidationError) as caught:
        card.full_clean(validate_unique=False)
    assert caught.value.message_dict == {
        "suit": ["Value 9 is not a valid choice."],
        "year": ["Value 'XX' is not a valid choice."],
        "media": ["Value 'Audio' is not a valid choice."],  # a group name is not a value
        "colour": ["Value 'b' is not a valid choice."],
    }
    good = card_model(suit=Suit.CLUB, year="", media="cd", size="s", colour="g")
    good.full_clean(validate_unique=False)
    assert good.suit == Suit.CLUB


def test_invalid_choice_error_has_django_code_and_params() -> None:
    field = orm.IntegerField(choices=Suit, name="suit")
    with pytest.raises(orm.ValidationError) as caught:
        field.clean(7, None)
    assert caught.value.code == "invalid_choice"
    assert caught.value.params == {"value": 7}
    assert caught.value.messages == ["Value 7 is not a valid choice."]
    assert field.clean(2, None) == 2
