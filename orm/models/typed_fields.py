"""``ManyToManyField`` as type checkers see it: ``book.tags`` is a ``ManyRelatedManager[Tag]``.

The field class lives in ``orm.fields``, a layer below the managers, so its
typing cannot name the manager the attribute gives on an instance. The class
here, declared for type checkers only, adds the constructor overloads that
do; ``orm.ManyToManyField`` is this class to a checker and
``orm.fields.ManyToManyField`` at run time, so nothing changes when a model is
built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Never, TypeVar, Unpack, overload

    from orm.fields.base import _GT, _ST, FieldOptions
    from orm.fields.related import ManyToManyField as _ManyToManyField
    from orm.models.base import Model
    from orm.models.related import ManyRelatedManager

    _To = TypeVar("_To", bound=Model)

    class ManyToManyField(_ManyToManyField[_ST, _GT]):
        """A many-to-many relation; on an instance, the manager of the related objects.

        Nothing may be assigned to it (``book.tags = ...`` raises at run time:
        use ``set()``/``aset()``), so its assignment type is ``Never``.
        """

        @overload
        def __init__(
            self: ManyToManyField[Never, ManyRelatedManager[_To]],
            to: type[_To],
            related_name: str | None = None,
            related_query_name: str | None = None,
            through: Any = None,
            db_table: str | None = None,
            symmetrical: bool | None = None,
            **kwargs: Unpack[FieldOptions],
        ) -> None: ...
        # A model named by a string ("Tag", "self") is only resolved by the
        # registry later: the checker sees a manager of Any.
        @overload
        def __init__(
            self: ManyToManyField[Never, ManyRelatedManager[Any]],
            to: str,
            related_name: str | None = None,
            related_query_name: str | None = None,
            through: Any = None,
            db_table: str | None = None,
            symmetrical: bool | None = None,
            **kwargs: Unpack[FieldOptions],
        ) -> None: ...
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...
