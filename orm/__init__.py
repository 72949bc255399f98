"""`orm`: Django's model and QuerySet API, standalone, with a thin async skin.

Public names only; see API.md for the contract.
"""

from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync, sync_to_async

import orm.query.generated  # noqa: F401  (gives GeneratedField its expression compiler)
from orm import signals
from orm._version import __version__
from orm.db import transaction
from orm.db.capture import capture_queries
from orm.db.connections import configure, connection, connections
from orm.db.scopes import connection_scope
from orm.exceptions import (
    DatabaseError,
    DataError,
    DeadlockDetected,
    FieldDoesNotExist,
    FieldError,
    ImproperlyConfigured,
    IntegrityError,
    InterfaceError,
    InternalError,
    MultipleObjectsReturned,
    NotSupportedError,
    ObjectDoesNotExist,
    OperationalError,
    ProgrammingError,
    ProtectedError,
    QueryCanceled,
    RestrictedError,
    SerializationFailure,
    SynchronousOnlyOperation,
    TransactionManagementError,
    ValidationError,
)
from orm.fields import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BinaryField,
    BooleanField,
    CharField,
    Choices,
    DateField,
    DateTimeField,
    DecimalField,
    DurationField,
    EmailField,
    Field,
    FloatField,
    ForeignKey,
    GeneratedField,
    GenericIPAddressField,
    IntegerChoices,
    IntegerField,
    JSONField,
    OneToOneField,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SlugField,
    SmallAutoField,
    SmallIntegerField,
    TextChoices,
    TextField,
    TimeField,
    URLField,
    UUIDField,
)

# The same class either way; a checker sees the subclass that types
# ``book.tags`` as a manager of the related model (see orm/models/typed_fields.py).
if TYPE_CHECKING:
    from orm.models.typed_fields import ManyToManyField
else:
    from orm.fields import ManyToManyField
from orm.functions import Cast, Concat, Extract, Greatest, Least, Now, NullIf, Trunc, TruncDate
from orm.models import (
    CASCADE,
    DEFERRED,
    DO_NOTHING,
    PROTECT,
    RESTRICT,
    SET_DEFAULT,
    SET_NULL,
    CheckConstraint,
    Index,
    Manager,
    Model,
    UniqueConstraint,
    acreate_tables,
    adrop_tables,
    create_tables,
    drop_tables,
)
from orm.models.related import ManyRelatedManager, RelatedManager
from orm.pagination import (
    AsyncPage,
    AsyncPaginator,
    EmptyPage,
    InvalidPage,
    Page,
    PageNotAnInteger,
    Paginator,
    UnorderedObjectListWarning,
)
from orm.query.aggregates import Aggregate, Avg, Count, Max, Min, StdDev, Sum, Variance
from orm.query.conditional import Case, When
from orm.query.expressions import (
    Coalesce,
    Expression,
    ExpressionWrapper,
    F,
    Func,
    Length,
    Lower,
    OrderBy,
    RawSQL,
    Upper,
    Value,
)
from orm.query.filtered_relation import FilteredRelation
from orm.query.json_lookups import KT, KeyTextTransform, KeyTransform
from orm.query.lookups import Lookup, Transform
from orm.query.ordered_aggregates import ArrayAgg, JSONBAgg, StringAgg
from orm.query.prefetch import Prefetch, aprefetch_related_objects, prefetch_related_objects
from orm.query.q import Q
from orm.query.queryset import QuerySet
from orm.query.subqueries import Exists, OuterRef, Subquery
from orm.query.window import (
    CumeDist,
    DenseRank,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    NthValue,
    NTile,
    Ntile,
    PercentRank,
    Rank,
    RowNumber,
    RowRange,
    ValueRange,
    Window,
    WindowFrame,
    WindowFrameExclusion,
)
from orm.utils.asyncio import to_async


def migrate(
    app_label: str | None = None,
    target: str | None = None,
    *,
    using: str = "default",
    fake: bool = False,
    fake_initial: bool = False,
    apps: list[str] | None = None,
) -> list[str]:
    """Apply or unapply migrations, as ``orm migrate [app_label [target]]`` does.

    See ``orm.migrations.executor.migrate``; imported on first call, so
    ``import orm`` does not load the migration machinery.
    """
    from orm.migrations.executor import migrate as run

    return run(app_label, target, using=using, fake=fake, fake_initial=fake_initial, apps=apps)


async def amigrate(
    app_label: str | None = None,
    target: str | None = None,
    *,
    using: str = "default",
    fake: bool = False,
    fake_initial: bool = False,
    apps: list[str] | None = None,
) -> list[str]:
    """Async twin of :func:`migrate`, run on the context's sync thread (safe in an ASGI lifespan)."""
    return await to_async(migrate)(
        app_label, target, using=using, fake=fake, fake_initial=fake_initial, apps=apps
    )


__all__ = [
    "CASCADE",
    "DEFERRED",
    "DO_NOTHING",
    "PROTECT",
    "RESTRICT",
    "SET_DEFAULT",
    "SET_NULL",
    "AutoField",
    "Avg",
    "BigAutoField",
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "Case",
    "Cast",
    "CharField",
    "CheckConstraint",
    "Choices",
    "Coalesce",
    "Concat",
    "Count",
    "DataError",
    "DatabaseError",
    "DateField",
    "DateTimeField",
    "DeadlockDetected",
    "DecimalField",
    "DurationField",
    "EmailField",
    "Exists",
    "ExpressionWrapper",
    "Extract",
    "F",
    "Field",
    "FieldDoesNotExist",
    "FieldError",
    "FilteredRelation",
    "FloatField",
    "ForeignKey",
    "Func",
    "Lookup",
    "Transform",
    "GeneratedField",
    "GenericIPAddressField",
    "Greatest",
    "ImproperlyConfigured",
    "Index",
    "IntegerChoices",
    "IntegerField",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "JSONField",
    "Least",
    "Length",
    "Lower",
    "Manager",
    "ManyRelatedManager",
    "ManyToManyField",
    "Max",
    "Min",
    "Model",
    "MultipleObjectsReturned",
    "NotSupportedError",
    "Now",
    "NullIf",
    "ObjectDoesNotExist",
    "OneToOneField",
    "OperationalError",
    "OuterRef",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "Prefetch",
    "ProgrammingError",
    "ProtectedError",
    "Q",
    "QueryCanceled",
    "QuerySet",
    "RawSQL",
    "RelatedManager",
    "RestrictedError",
    "SerializationFailure",
    "SlugField",
    "SmallAutoField",
    "SmallIntegerField",
    "Subquery",
    "Sum",
    "SynchronousOnlyOperation",
    "TextChoices",
    "TextField",
    "TimeField",
    "TransactionManagementError",
    "Trunc",
    "TruncDate",
    "URLField",
    "UniqueConstraint",
    "UUIDField",
    "Upper",
    "ValidationError",
    "Value",
    "When",
    "__version__",
    "acreate_tables",
    "adrop_tables",
    "amigrate",
    "aprefetch_related_objects",
    "async_to_sync",
    "capture_queries",
    "configure",
    "connection",
    "connection_scope",
    "connections",
    "create_tables",
    "drop_tables",
    "migrate",
    "prefetch_related_objects",
    "signals",
    "sync_to_async",
    "transaction",
    # window expressions (issue 17 item 2)
    "CumeDist",
    "DenseRank",
    "FirstValue",
    "Lag",
    "LastValue",
    "Lead",
    "NthValue",
    "Ntile",
    "NTile",
    # aggregates collecting a group's values (issue 17 item 5)
    "ArrayAgg",
    "JSONBAgg",
    "StringAgg",
    "OrderBy",
    "Aggregate",
    "StdDev",
    "Variance",
    "Expression",
    "WindowFrame",
    # JSON key transforms (issue 17 item 6)
    "KT",
    "KeyTextTransform",
    "KeyTransform",
    "PercentRank",
    "Rank",
    "RowNumber",
    "RowRange",
    "ValueRange",
    "Window",
    "WindowFrameExclusion",
    # pagination (issue 20)
    "AsyncPage",
    "AsyncPaginator",
    "EmptyPage",
    "InvalidPage",
    "Page",
    "PageNotAnInteger",
    "Paginator",
    "UnorderedObjectListWarning",
]
