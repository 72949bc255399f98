"""Models shared by the integration tests (app label ``tests``, from this module's path).

Every field type, field option, relation kind, ``on_delete`` rule and ``Meta``
option of API.md appears in at least one model here. ``ALL_MODELS`` lists the
concrete models in an order ``orm.create_tables`` accepts (automatic
many-to-many tables are created with the model that declares the field).
"""

from __future__ import annotations

import uuid

import orm

# --------------------------------------------------------------- the book shop


class Author(orm.Model):
    name = orm.CharField(max_length=100)
    email = orm.EmailField(unique=True)
    created = orm.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Book(orm.Model):
    title = orm.CharField(max_length=200, db_index=True)
    author = orm.ForeignKey(Author, on_delete=orm.CASCADE, related_name="books")
    # A string reference to a model defined further down, as in API.md.
    tags = orm.ManyToManyField("Tag", related_name="books", blank=True)
    price = orm.DecimalField(max_digits=8, decimal_places=2, default=0)
    pages = orm.IntegerField(null=True)
    published = orm.DateField(null=True)
    data = orm.JSONField(null=True)

    def __str__(self) -> str:
        return self.title


class Tag(orm.Model):
    name = orm.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class Profile(orm.Model):
    """A plain (non primary key) one-to-one: ``author.profile`` / ``profile.author``."""

    author = orm.OneToOneField(Author, on_delete=orm.CASCADE, related_name="profile")
    bio = orm.TextField(blank=True, default="")


# ---------------------------------------------------------- every field type


class AllFields(orm.Model):
    small_int = orm.SmallIntegerField(null=True)
    int_value = orm.IntegerField(null=True)
    big_int = orm.BigIntegerField(null=True)
    positive_int = orm.PositiveIntegerField(null=True)
    float_value = orm.FloatField(null=True)
    decimal_value = orm.DecimalField(max_digits=12, decimal_places=4, null=True)
    bool_value = orm.BooleanField(default=False)
    null_bool = orm.BooleanField(null=True)
    char_value = orm.CharField(max_length=20, blank=True, default="")
    text_value = orm.TextField(blank=True, default="")
    email_value = orm.EmailField(null=True, blank=True)
    slug_value = orm.SlugField(null=True, blank=True)
    url_value = orm.URLField(null=True, blank=True)
    uuid_value = orm.UUIDField(null=True)
    date_value = orm.DateField(null=True)
    datetime_value = orm.DateTimeField(null=True)
    time_value = orm.TimeField(null=True)
    duration_value = orm.DurationField(null=True)
    json_value = orm.JSONField(null=True)
    binary_value = orm.BinaryField(null=True)


class Token(orm.Model):
    """A UUID primary key with a callable default."""

    id = orm.UUIDField(primary_key=True, default=uuid.uuid4)
    label = orm.CharField(max_length=50)


# ------------------------------------------------------------- one-to-one pair


class Place(orm.Model):
    name = orm.CharField(max_length=50)
    address = orm.CharField(max_length=80, blank=True, default="")


class Restaurant(orm.Model):
    place = orm.OneToOneField(Place, on_delete=orm.CASCADE, primary_key=True)
    serves_pizza = orm.BooleanField(default=False)


# ----------------------------------------------------- many-to-many "through"


class Person(orm.Model):
    name = orm.CharField(max_length=50)

    class Meta:
        ordering = ["name"]


class Group(orm.Model):
    # "group" is an SQL keyword: the table and lookups must be quoted correctly.
    name = orm.CharField(max_length=50)
    members = orm.ManyToManyField(Person, through="Membership", related_name="groups")

    class Meta:
        ordering = ["name"]


class Membership(orm.Model):
    person = orm.ForeignKey(Person, on_delete=orm.CASCADE)
    group = orm.ForeignKey(Group, on_delete=orm.CASCADE)
    date_joined = orm.DateField()
    invite_reason = orm.CharField(max_length=64, blank=True, default="")

    class Meta:
        unique_together = [("person", "group")]


# ------------------------------------------------------------- on_delete rules


class Owner(orm.Model):
    name = orm.CharField(max_length=50)


def fallback_owner_pk() -> int:
    """Default of ``Defaulted.owner``: the pk of the owner named "fallback"."""
    return Owner.objects.get_or_create(name="fallback")[0].pk


class Protected(orm.Model):
    owner = orm.ForeignKey(Owner, on_delete=orm.PROTECT, related_name="protected")


class Nullified(orm.Model):
    owner = orm.ForeignKey(Owner, on_delete=orm.SET_NULL, null=True, related_name="nullified")
    label = orm.CharField(max_length=20, default="")


class Defaulted(orm.Model):
    owner = orm.ForeignKey(
        Owner, on_delete=orm.SET_DEFAULT, default=fallback_owner_pk, related_name="defaulted"
    )


class Untouched(orm.Model):
    owner = orm.ForeignKey(Owner, on_delete=orm.DO_NOTHING, related_name="untouched")


# Django's RESTRICT example: deleting an artist cascades to albums and songs
# (allowed); deleting an album a song still points at is refused.
class Artist(orm.Model):
    name = orm.CharField(max_length=50)


class Album(orm.Model):
    artist = orm.ForeignKey(Artist, on_delete=orm.CASCADE, related_name="albums")
    title = orm.CharField(max_length=50)


class Song(orm.Model):
    artist = orm.ForeignKey(Artist, on_delete=orm.CASCADE, related_name="songs")
    album = orm.ForeignKey(Album, on_delete=orm.RESTRICT, related_name="songs")
    title = orm.CharField(max_length=50)


class Category(orm.Model):
    """A self-referential foreign key."""

    name = orm.CharField(max_length=50)
    parent = orm.ForeignKey("self", on_delete=orm.CASCADE, null=True, related_name="children")


# ---------------------------------------------- abstract base, Meta options


def validate_even(value: int) -> None:
    if value % 2:
        raise orm.ValidationError(f"{value} is not an even number.", code="odd")


class TimestampedModel(orm.Model):
    created = orm.DateTimeField(auto_now_add=True)
    modified = orm.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


STATUS_CHOICES = [("d", "Draft"), ("p", "Published")]


class Article(TimestampedModel):
    headline = orm.CharField(
        max_length=100, verbose_name="head line", help_text="Shown on the front page."
    )
    slug = orm.SlugField()
    status = orm.CharField(max_length=1, choices=STATUS_CHOICES, default="d")
    rating = orm.SmallIntegerField(default=0, db_column="score")
    word_count = orm.PositiveIntegerField(default=0, validators=[validate_even])
    internal_note = orm.CharField(max_length=50, editable=False, blank=True, default="")

    class Meta:
        get_latest_by = "created"
        indexes = [orm.Index(fields=["headline", "-rating"], name="tests_article_head_rating_idx")]
        constraints = [
            orm.CheckConstraint(
                condition=orm.Q(rating__gte=0) & orm.Q(rating__lte=5),
                name="tests_article_rating_0_5",
            ),
            orm.UniqueConstraint(
                fields=["slug"], condition=orm.Q(status="p"), name="tests_article_published_slug"
            ),
            orm.UniqueConstraint(
                fields=["headline", "rating"], name="tests_article_head_rating_uniq"
            ),
        ]


ALL_MODELS: tuple[type[orm.Model], ...] = (
    Author,
    Tag,
    Book,
    Profile,
    AllFields,
    Token,
    Place,
    Restaurant,
    Person,
    Group,
    Membership,
    Owner,
    Protected,
    Nullified,
    Defaulted,
    Untouched,
    Artist,
    Album,
    Song,
    Category,
    Article,
)
