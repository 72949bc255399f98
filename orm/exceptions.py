"""Every exception `orm` raises on purpose.

A leaf module: it imports nothing from `orm`, so every layer can raise these.
The PEP 249 family (``DatabaseError`` and its subclasses) is the same on every
backend; the driver's own error is kept as ``__cause__`` and its SQLSTATE, when
the driver reports one, on ``.sqlstate``.
"""

from __future__ import annotations

from typing import Any


class ObjectDoesNotExist(Exception):
    """The requested object does not exist (base of every ``Model.DoesNotExist``)."""


class MultipleObjectsReturned(Exception):
    """A query expected one object but found several."""


class FieldError(Exception):
    """A field name, lookup, ordering term or alias could not be resolved."""


class FieldDoesNotExist(FieldError):
    """``Model._meta.get_field(name)`` found no field of that name.

    A ``FieldError`` too, so code catching the wider error keeps working.
    """


class UnknownFieldError(FieldError, TypeError):
    """Keyword arguments that name no field of the model (both FieldError and TypeError)."""


class ImproperlyConfigured(Exception):
    """`orm` is set up wrongly (no database configured, bad URL, missing extra)."""


class SynchronousOnlyOperation(Exception):
    """A synchronous database call was made on a thread running an event loop."""


class EmptyResultSet(Exception):
    """Internal: a WHERE clause can never match, so no query needs to run."""


class FullResultSet(Exception):
    """Internal: a WHERE clause matches every row, so it can be left out."""


class ValidationError(Exception):
    """One or more values failed validation.

    ``message_dict`` maps field names to lists of messages when the error comes
    from ``full_clean()``; ``messages`` is always a flat list.
    """

    def __init__(self, message: Any, code: str | None = None, params: Any = None) -> None:
        self.code = code
        self.params = params
        if isinstance(message, dict):
            self.error_dict: dict[str, list[str]] | None = {
                key: [str(m) for m in (val if isinstance(val, list) else [val])]
                for key, val in message.items()
            }
            self.error_list = [m for msgs in self.error_dict.values() for m in msgs]
        elif isinstance(message, list):
            self.error_dict = None
            self.error_list = [str(m) for m in message]
        else:
            self.error_dict = None
            self.error_list = [str(message)]
        super().__init__(message if isinstance(message, dict | list) else str(message))

    @property
    def message_dict(self) -> dict[str, list[str]]:
        """Messages per field name (only for errors raised by ``full_clean()``)."""
        if self.error_dict is None:
            raise AttributeError("This ValidationError has no message_dict.")
        return self.error_dict

    @property
    def messages(self) -> list[str]:
        """All messages as a flat list."""
        return list(self.error_list)

    def __str__(self) -> str:
        if self.error_dict is not None:
            return repr(self.error_dict)
        return "; ".join(self.error_list) if len(self.error_list) != 1 else self.error_list[0]


class TransactionManagementError(Exception):
    """A transaction was used wrongly (query after an error inside atomic, ...)."""


class ProtectedError(Exception):
    """Deleting would remove objects referenced through ``on_delete=PROTECT``."""

    def __init__(self, msg: str, protected_objects: Any) -> None:
        self.protected_objects = protected_objects
        super().__init__(msg, protected_objects)


class RestrictedError(Exception):
    """Deleting would remove objects referenced through ``on_delete=RESTRICT``."""

    def __init__(self, msg: str, restricted_objects: Any) -> None:
        self.restricted_objects = restricted_objects
        super().__init__(msg, restricted_objects)


# --- PEP 249 -----------------------------------------------------------------


class DatabaseOperationForbidden(AssertionError):
    """A test used a database alias its ``orm_db`` marker does not list (``databases=``).

    An ``AssertionError``, as Django's, so pytest reports it as the test's failure.
    """


class Error(Exception):
    """Base of the PEP 249 exception family."""

    #: SQLSTATE reported by the driver, when it reports one.
    sqlstate: str | None = None


class InterfaceError(Error):
    """The database interface (not the database) failed."""


class DatabaseError(Error):
    """An error related to the database."""


class DataError(DatabaseError):
    """A value is out of range, too long, or otherwise unfit for its column."""


class OperationalError(DatabaseError):
    """The database failed to operate (lost connection, lock, timeout, ...)."""


class IntegrityError(DatabaseError):
    """A constraint was violated (unique, foreign key, not null, check)."""


class InternalError(DatabaseError):
    """The database hit an internal error."""


class ProgrammingError(DatabaseError):
    """The SQL was wrong (missing table, syntax error, wrong parameter count)."""


class NotSupportedError(DatabaseError):
    """The backend does not support the requested operation."""


class SerializationFailure(OperationalError):
    """SQLSTATE 40001: the transaction could not be serialized; retry the whole block."""


class DeadlockDetected(OperationalError):
    """SQLSTATE 40P01: the transaction was chosen as a deadlock victim; retry it."""


class QueryCanceled(OperationalError):
    """SQLSTATE 57014: the statement was cancelled (statement timeout, cancel request)."""


__all__ = [
    "DatabaseOperationForbidden",
    "DataError",
    "DatabaseError",
    "DeadlockDetected",
    "EmptyResultSet",
    "Error",
    "FieldError",
    "FullResultSet",
    "ImproperlyConfigured",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "MultipleObjectsReturned",
    "NotSupportedError",
    "ObjectDoesNotExist",
    "OperationalError",
    "ProgrammingError",
    "ProtectedError",
    "QueryCanceled",
    "RestrictedError",
    "SerializationFailure",
    "SynchronousOnlyOperation",
    "TransactionManagementError",
    "ValidationError",
]
