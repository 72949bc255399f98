"""Date and time fields. Datetimes are aware (UTC) in and out and naive ones refused;
with ``use_tz=False`` (see orm.utils.timezone) it is the other way round."""

from __future__ import annotations

import datetime
from typing import Any, Literal, Unpack, overload

from orm.abc import Connection
from orm.exceptions import DataError
from orm.fields.base import _GT, _ST, Expression, Field, FieldOptions, ModelInstance
from orm.utils import timezone
from orm.utils.text import short_repr


def now() -> datetime.datetime:
    """The current time: aware, in UTC (naive local time with ``use_tz=False``, as Django)."""
    return timezone.now()


def _refuse_aware(field: Field, value: Any, kind: str) -> None:
    # Which date or time an aware value means depends on a time zone only the
    # caller knows: storing one in a naive column is refused, not guessed.
    # (PostgreSQL would drop an aware time's offset, SQLite keep it as text.)
    is_datetime = isinstance(value, datetime.datetime)
    if (
        is_datetime or (kind == "time" and isinstance(value, datetime.time))
    ) and value.utcoffset() is not None:
        what = "datetime" if is_datetime else "time"
        fix = (
            f"value.astimezone(tz).{kind}()" if what == "datetime" else "value.replace(tzinfo=None)"
        )
        raise ValueError(
            f"Field {field.name!r} stores a naive {kind} but got the aware {what} {short_repr(value)}; "
            f"convert it to the time zone you mean and drop the zone, e.g. {fix}."
        )


class _AutoNowMixin(Field[_ST, _GT]):
    def __init__(
        self, *args: Any, auto_now: bool = False, auto_now_add: bool = False, **kwargs: Any
    ) -> None:
        self.auto_now = auto_now
        self.auto_now_add = auto_now_add
        if auto_now or auto_now_add:
            kwargs["editable"] = False
            kwargs["blank"] = True
        super().__init__(*args, **kwargs)

    def current_value(self) -> Any:
        raise NotImplementedError

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.auto_now:
            kwargs["auto_now"] = True
        if self.auto_now_add:
            kwargs["auto_now_add"] = True
        if self.auto_now or self.auto_now_add:
            # Forced by auto_now/auto_now_add, not chosen.
            kwargs.pop("editable", None)
            kwargs.pop("blank", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: ModelInstance, add: bool) -> Any:
        if self.auto_now or (self.auto_now_add and add):
            value = self.current_value()
            setattr(model_instance, self.attname, value)
            return value
        return super().pre_save(model_instance, add)


class DateField(_AutoNowMixin[_ST, _GT]):
    """A calendar date (a datetime given here keeps only its date)."""

    @overload
    def __init__(
        self: DateField[datetime.date | str | Expression, datetime.date],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: DateField[datetime.date | str | Expression | None, datetime.date | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "DateField"

    def current_value(self) -> Any:
        return now().date()

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, datetime.datetime):
            if value.tzinfo is not None and value.utcoffset() is not None:
                value = value.astimezone(datetime.UTC)  # lookups compare UTC dates
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise self.fail(value, "a date in YYYY-MM-DD format") from None
        raise TypeError(
            f"Field {self.name!r} expected a date but got {type(value).__name__} {short_repr(value)}."
        )

    def get_db_prep_save(self, value: Any, connection: Connection) -> Any:
        _refuse_aware(self, value, "date")
        return super().get_db_prep_save(value, connection)

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, datetime.date):
            return connection.ops.adapt_datefield_value(value)
        return value


class DateTimeField(_AutoNowMixin[_ST, _GT]):
    """An aware datetime, stored in UTC. A naive datetime raises ``ValueError``.

    With ``use_tz=False`` the reverse: a naive datetime, stored as given; an
    aware one raises ``ValueError``.
    """

    @overload
    def __init__(
        self: DateTimeField[datetime.datetime | str | Expression, datetime.datetime],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: DateTimeField[datetime.datetime | str | Expression | None, datetime.datetime | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "DateTimeField"

    def current_value(self) -> Any:
        return now()

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, str):
            try:
                value = datetime.datetime.fromisoformat(value)
            except ValueError:
                raise self.fail(value, "an ISO 8601 datetime") from None
        if isinstance(value, datetime.datetime):
            if not timezone.use_tz():
                return self._prep_naive(value)
            try:
                value.astimezone(datetime.UTC)
            except OverflowError:
                raise ValueError(
                    f"Field {self.name!r} cannot store {short_repr(value)}: it is outside the range of "
                    "datetimes representable in UTC."
                ) from None
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(
                    f"Field {self.name!r} received the naive datetime {short_repr(value)}; `orm` stores "
                    "aware datetimes only. Attach a time zone, e.g. "
                    "value.replace(tzinfo=datetime.timezone.utc)."
                )
            return value
        if isinstance(value, datetime.date):
            raise TypeError(
                f"Field {self.name!r} expected a datetime but got the date {short_repr(value)}; "
                "use a DateField or pass an aware datetime."
            )
        raise TypeError(
            f"Field {self.name!r} expected a datetime but got {type(value).__name__} {short_repr(value)}."
        )

    def _prep_naive(self, value: datetime.datetime) -> datetime.datetime:
        # As Django with USE_TZ = False, but refusing where Django would
        # silently store an aware value's wall clock: which naive time it
        # means is the caller's choice.
        if value.utcoffset() is not None:
            raise ValueError(
                f"Field {self.name!r} received the aware datetime {short_repr(value)}, but time zone "
                "support is off (orm.configure(..., use_tz=False)): datetimes are naive. Convert it, "
                "e.g. value.astimezone(tz).replace(tzinfo=None), or turn use_tz back on."
            )
        return value.replace(tzinfo=None) if value.tzinfo is not None else value

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, datetime.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        return value


class TimeField(_AutoNowMixin[_ST, _GT]):
    """A time of day (naive)."""

    @overload
    def __init__(
        self: TimeField[datetime.time | datetime.datetime | str | Expression, datetime.time],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: TimeField[
            datetime.time | datetime.datetime | str | Expression | None, datetime.time | None
        ],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        auto_now: bool = False,
        auto_now_add: bool = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "TimeField"

    def current_value(self) -> Any:
        return now().time()

    def get_prep_value(self, value: Any) -> Any:
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if isinstance(value, datetime.datetime):
            if value.tzinfo is not None and value.utcoffset() is not None:
                value = value.astimezone(datetime.UTC)  # lookups compare UTC times
            return value.time()
        if isinstance(value, datetime.time):
            if value.utcoffset() is not None:
                # As an aware datetime above: lookups compare the UTC time, on every
                # backend. Only a fixed offset makes a time aware, so any date will do.
                aware = datetime.datetime.combine(datetime.date(2000, 1, 3), value)
                return aware.astimezone(datetime.UTC).time()
            return value.replace(tzinfo=None) if value.tzinfo is not None else value
        if isinstance(value, str):
            try:
                return datetime.time.fromisoformat(value)
            except ValueError:
                raise self.fail(value, "a time in HH:MM[:SS[.ffffff]] format") from None
        raise TypeError(
            f"Field {self.name!r} expected a time but got {type(value).__name__} {short_repr(value)}."
        )

    def get_db_prep_save(self, value: Any, connection: Connection) -> Any:
        _refuse_aware(self, value, "time")
        return super().get_db_prep_save(value, connection)

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, datetime.time):
            return connection.ops.adapt_timefield_value(value)
        return value


#: The durations a DurationField holds on every backend: SQLite stores whole
#: microseconds in a 64-bit integer (about 292,000 years either way).
#: PostgreSQL's interval holds more, but refusing the same values on both keeps
#: the backends interchangeable; ``timedelta.max`` itself does not fit.
DURATION_RANGE = (
    datetime.timedelta(microseconds=-(2**63)),
    datetime.timedelta(microseconds=2**63 - 1),
)


class DurationField(Field[_ST, _GT]):
    """A ``datetime.timedelta`` (microseconds on SQLite, ``interval`` on PostgreSQL).

    Values outside ``DURATION_RANGE`` raise ``DataError`` before any write; in
    a filter they match nothing (or, for ``lt``/``gt`` and friends,
    everything), as an integer outside its column's range does.
    """

    @overload
    def __init__(
        self: DurationField[datetime.timedelta | Expression, datetime.timedelta],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: Literal[False] = False,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: DurationField[datetime.timedelta | Expression | None, datetime.timedelta | None],
        verbose_name: str | None = None,
        name: str | None = None,
        *,
        null: bool,
        **kwargs: Unpack[FieldOptions],
    ) -> None: ...
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def get_internal_type(self) -> str:
        return "DurationField"

    @property
    def range(self) -> tuple[datetime.timedelta, datetime.timedelta]:
        """Inclusive (min, max) of what the column holds."""
        return DURATION_RANGE

    def get_prep_value(self, value: Any) -> Any:
        if (
            value is None
            or hasattr(value, "resolve_expression")
            or isinstance(value, datetime.timedelta)
        ):
            return value
        raise TypeError(
            f"Field {self.name!r} expected a timedelta but got {type(value).__name__} {short_repr(value)}."
        )

    def get_db_prep_value(self, value: Any, connection: Connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, datetime.timedelta):
            # Every duration bound for the driver passes here (writes, filters,
            # Value()), so SQLite's OverflowError can never surface instead.
            low, high = DURATION_RANGE
            if not low <= value <= high:
                raise DataError(
                    f"Value {value!r} for field {self.name!r} is out of range for DurationField "
                    f"(about ±{high.days:,} days, what SQLite's 64-bit microsecond column holds); "
                    "store None (null=True) to mean 'no limit' instead of timedelta.max."
                )
            return connection.ops.adapt_durationfield_value(value)
        return value
