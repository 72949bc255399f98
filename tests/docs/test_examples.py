"""Every Python block in README.md and docs/ runs, so a stale example fails.

One test per page runs the page's blocks in order against SQLite, leaving out
those marked ``<!-- docs-test: postgresql -->`` (and the rare ``skip``). A page
with PostgreSQL blocks gets a second test, when ``ORM_TEST_POSTGRES_URL`` is
set (skipped without it, as every PostgreSQL test), that runs all its blocks in order against that database (its ``public``
schema emptied first), with every PostgreSQL server URL written in the page,
and every SQLite URL pointed at it (the examples name servers the tests do
not have; the query options after ``?`` are kept). See tests/docs/blocks.py for the markers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import (
    PG_URL_ENV,
    _reset_postgres_schema,
    admin_connect,
    postgres_unavailable,
    postgres_url,
)
from tests.docs.blocks import ROOT, documented_pages, python_blocks
from tests.docs.runner import run_page

PAGES = {page: python_blocks(page) for page in documented_pages()}
SQLITE_PAGES = [
    p for p, blocks in PAGES.items() if any(not b.skip and not b.postgres for b in blocks)
]
POSTGRES_PAGES = [p for p, blocks in PAGES.items() if any(b.postgres for b in blocks)]
# A database URL up to its query string or closing quote: scheme://user@host:port/db
# or sqlite:///path. The PostgreSQL run points them all at the test server, so
# the page's examples run there from its first configure() on.
SERVER_URL = re.compile(r"(?:postgres(?:ql)?://[^\s\"'?/]*(?:/[^\s\"'?]*)?|sqlite:///[^\s\"'?]*)")


def _ids(pages: list[Path]) -> list[str]:
    return [str(page.relative_to(ROOT)) for page in pages]


@pytest.mark.parametrize("page", SQLITE_PAGES, ids=_ids(SQLITE_PAGES))
def test_page_examples_run_on_sqlite(page: Path, tmp_path: Path) -> None:
    blocks = [b for b in PAGES[page] if not b.skip and not b.postgres]
    run_page(page, blocks, tmp_path, f"sqlite:///{tmp_path / 'docs.sqlite3'}")


@pytest.mark.postgres
@pytest.mark.parametrize("page", POSTGRES_PAGES, ids=_ids(POSTGRES_PAGES))
def test_page_examples_run_on_postgresql(page: Path, tmp_path: Path) -> None:
    url = postgres_url()
    if url is None:
        postgres_unavailable(
            f"{PG_URL_ENV} is not set"
        )  # skips, or fails under ORM_REQUIRE_POSTGRES=1
    admin = admin_connect(url)
    try:
        _reset_postgres_schema(admin)
    finally:
        admin.close()
    test_server = url.split("?", 1)[0]
    blocks = [b for b in PAGES[page] if not b.skip]
    run_page(
        page, blocks, tmp_path, url, rewrite=lambda source: SERVER_URL.sub(test_server, source)
    )


def test_server_urls_are_rewritten_up_to_the_query_string() -> None:
    source = 'orm.configure("postgresql://app:s@db.internal:5432/app?pool_max_size=2")'
    assert (
        SERVER_URL.sub("postgresql://t@h/x", source)
        == 'orm.configure("postgresql://t@h/x?pool_max_size=2")'
    )


def test_opt_outs_are_rare_and_give_a_reason() -> None:
    # python_blocks() already refuses an unknown marker or a skip without a
    # reason; an opt-out is for a fragment, so they stay a small minority.
    blocks = [b for page_blocks in PAGES.values() for b in page_blocks]
    skipped = [b.where for b in blocks if b.skip]
    assert len(skipped) * 10 <= len(blocks), (
        f"{len(skipped)} of {len(blocks)} blocks opt out: {skipped}"
    )
