"""The ``_meta`` API (issue 16 item 4), with Django 5.2's answers for the same models."""

from __future__ import annotations

from typing import Any

import pytest

import orm
from orm.fields import ManyToManyRel, ManyToOneRel, OneToOneRel
from orm.models.registry import Apps

APP = "i16_meta"


def build() -> dict[str, Any]:
    """Publisher <- BookEdition -> (m2m) Genre; BookEdition <-> Cover one-to-one; a hidden FK."""
    apps = Apps()

    def meta(**options: Any) -> type:
        return type("Meta", (), {"app_label": APP, "apps": apps, **options})

    def model(class_name: str, /, **body: Any) -> Any:
        return type(class_name, (orm.Model,), {"__module__": __name__, **body})

    publisher = model("Publisher", Meta=meta(), name=orm.CharField(max_length=50))
    genre = model(
        "Genre",
        Meta=meta(verbose_name="kind", verbose_name_plural="kinds"),
        code=orm.CharField(max_length=5, primary_key=True),
    )
    edition = model(
        "BookEdition",
        Meta=meta(db_table="editions"),
        title=orm.CharField(max_length=100, db_column="title_col"),
        publisher=orm.ForeignKey(publisher, on_delete=orm.CASCADE, related_name="editions"),
        genres=orm.ManyToManyField(genre, related_name="editions"),
    )
    cover = model("Cover", Meta=meta(), edition=orm.OneToOneField(edition, on_delete=orm.CASCADE))
    audit = model(
        "HTTPAuditLog",
        Meta=meta(),
        publisher=orm.ForeignKey(publisher, on_delete=orm.CASCADE, related_name="+"),
    )
    return {
        "Publisher": publisher,
        "Genre": genre,
        "BookEdition": edition,
        "Cover": cover,
        "HTTPAuditLog": audit,
    }


def names(fields: list[Any]) -> list[str]:
    return [f.name for f in fields]


def test_model_names_and_labels() -> None:
    m = build()
    opts = m["BookEdition"]._meta
    assert (opts.object_name, opts.model_name, opts.app_label) == (
        "BookEdition",
        "bookedition",
        APP,
    )
    assert (opts.label, opts.label_lower) == (f"{APP}.BookEdition", f"{APP}.bookedition")
    assert opts.db_table == "editions"
    assert m["Publisher"]._meta.db_table == f"{APP}_publisher"
    # Derived as Django does: camel case split, lower-cased; plural adds "s".
    assert opts.verbose_name == "book edition" and opts.verbose_name_plural == "book editions"
    assert m["HTTPAuditLog"]._meta.verbose_name == "http audit log"
    assert (
        m["Genre"]._meta.verbose_name == "kind" and m["Genre"]._meta.verbose_name_plural == "kinds"
    )
    assert opts.pk is opts.get_field("id") and m["Genre"]._meta.pk is m["Genre"]._meta.get_field(
        "code"
    )


def test_field_lists() -> None:
    m = build()
    opts = m["BookEdition"]._meta
    assert names(opts.local_fields) == ["id", "title", "publisher"]
    assert names(opts.concrete_fields) == ["id", "title", "publisher"]
    assert names(opts.local_concrete_fields) == ["id", "title", "publisher"]
    assert names(opts.fields) == ["id", "title", "publisher"]  # no many-to-many, as Django
    assert names(opts.many_to_many) == ["genres"]


def test_field_added_after_first_use_reaches_every_derived_list() -> None:
    # Field.contribute_to_class on a model already used (as Django's own tests
    # do): the cached field lists and the save()/Model(...) plans are rebuilt.
    m = build()
    edition = m["BookEdition"]
    opts = edition._meta
    edition(title="before")  # builds the init plan
    assert names(opts.concrete_fields) == ["id", "title", "publisher"]
    assert "pages" not in opts.save_plan.value_attnames
    orm.IntegerField(default=7).contribute_to_class(edition, "pages")
    assert names(opts.concrete_fields) == ["id", "title", "publisher", "pages"]
    assert names(opts.local_concrete_fields) == ["id", "title", "publisher", "pages"]
    assert "pages" in opts.save_plan.value_attnames
    assert edition(title="after").pages == 7
    assert edition(title="given", pages=3).pages == 3


def test_get_fields_puts_reverse_relations_first_and_hides_plus_names() -> None:
    m = build()
    opts = m["BookEdition"]._meta
    assert names(opts.get_fields()) == ["cover", "id", "title", "publisher", "genres"]
    publisher = m["Publisher"]._meta
    assert names(publisher.get_fields()) == ["editions", "id", "name"]
    hidden = publisher.get_fields(include_hidden=True)
    assert len(hidden) == 4 and hidden[1].hidden and hidden[1].related_model is m["HTTPAuditLog"]
    genre = m["Genre"]._meta
    assert names(genre.get_fields()) == ["editions", "code"]
    # The automatic join model's foreign keys are hidden relations.
    assert len(genre.get_fields(include_hidden=True)) == 3
    assert opts.get_fields(include_parents=False) == opts.get_fields()
    with pytest.raises(TypeError, match="Invalid argument for include_parents"):
        opts.get_fields(include_parents="yes")  # type: ignore[arg-type]


def test_get_field_by_name_attname_and_reverse_name() -> None:
    m = build()
    opts = m["BookEdition"]._meta
    publisher = opts.get_field("publisher")
    assert opts.get_field("publisher_id") is publisher
    assert opts.get_field("cover").related_model is m["Cover"]
    assert m["Publisher"]._meta.get_field("editions").field is publisher
    assert opts.fields_map["publisher_id"] is publisher and opts.fields_map["cover"].one_to_one
    with pytest.raises(orm.FieldDoesNotExist, match="BookEdition has no field named 'nope'"):
        opts.get_field("nope")
    assert issubclass(orm.FieldDoesNotExist, orm.FieldError)  # old handlers keep working


def test_field_attributes() -> None:
    m = build()
    opts = m["BookEdition"]._meta
    title, publisher, genres = (opts.get_field(n) for n in ("title", "publisher", "genres"))
    assert (title.name, title.attname, title.column) == ("title", "title", "title_col")
    assert (publisher.attname, publisher.column) == ("publisher_id", "publisher_id")
    assert title.is_relation is False and title.related_model is None and title.remote_field is None
    assert title.concrete and not title.auto_created and not title.hidden
    assert opts.get_field("id").auto_created
    flags = ("many_to_one", "one_to_many", "one_to_one", "many_to_many")
    assert [getattr(publisher, f) for f in flags] == [True, False, False, False]
    assert (
        publisher.is_relation and publisher.related_model is m["Publisher"] and publisher.concrete
    )
    assert [getattr(genres, f) for f in flags] == [False, False, False, True]
    assert genres.related_model is m["Genre"] and not genres.concrete
    one = m["Cover"]._meta.get_field("edition")
    assert [getattr(one, f) for f in flags] == [False, False, True, False]


def test_reverse_relation_objects() -> None:
    m = build()
    flags = ("many_to_one", "one_to_many", "one_to_one", "many_to_many")
    editions = m["Publisher"]._meta.get_field("editions")
    assert type(editions) is ManyToOneRel
    assert [getattr(editions, f) for f in flags] == [False, True, False, False]
    assert (
        editions.is_relation
        and not editions.concrete
        and editions.auto_created
        and not editions.editable
    )
    assert editions.related_model is m["BookEdition"] and editions.model is m["Publisher"]
    assert editions.remote_field is m["BookEdition"]._meta.get_field("publisher")
    assert editions.get_accessor_name() == "editions" and not editions.hidden
    cover = m["BookEdition"]._meta.get_field("cover")
    assert type(cover) is OneToOneRel and [getattr(cover, f) for f in flags] == [
        False,
        False,
        True,
        False,
    ]
    genre_editions = m["Genre"]._meta.get_field("editions")
    assert type(genre_editions) is ManyToManyRel
    assert [getattr(genre_editions, f) for f in flags] == [False, False, False, True]
    assert m["Publisher"]._meta.related_objects[0] is editions


def test_meta_of_real_models_answers_queries(db: str) -> None:
    """The API is read-only description: a model built from it queries the same table."""
    from tests.models import Author, Book

    Author.objects.create(name="Ann", email="ann@example.com")
    opts = Book._meta
    assert opts.get_field("author").related_model is Author
    assert [f.name for f in Author._meta.get_fields() if f.one_to_many] == ["books"]
    columns = {f.column for f in opts.concrete_fields}
    described = {
        info.name for info in orm.connection.introspection.get_table_description(opts.db_table)
    }
    assert columns == described
