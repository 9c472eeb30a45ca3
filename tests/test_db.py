"""Schema set-up and migrations on real databases."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from aggregator.cli import main
from aggregator.dedup import POSTINGS_PER_KEY, fingerprint, hash64, pack_sketch, unpack_sketch
from aggregator.store import Store
from aggregator.store.schema import (
    FIRST_REVISION,
    HEAD_REVISION,
    MIGRATIONS,
    SQLITE_CACHE_KIB,
    SQLITE_CACHED_STATEMENTS,
    SQLITE_WAL_PAGES,
    Base,
    migrate,
)
from tests.conftest import write_config


def _alembic(engine: sa.Engine, action: str, revision: str) -> None:
    config = _script_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _insert_blog(connection: sa.Connection, tags: str = "[]") -> None:
    """Feed 1, "Blog", as a migration test's earlier revision stores it."""
    connection.execute(sa.text(
        "INSERT INTO feeds (id, name, url, tags, failures) "
        "VALUES (1, 'Blog', 'https://blog.example/feed', :tags, 0)"), {"tags": tags})


def test_head_revision_is_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(_script_config()).get_current_head() == HEAD_REVISION


def test_creating_or_opening_a_database_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    code = ("import sys; from aggregator.store import Store; Store.open(sys.argv[1]).close(); "
            "print(any(name.startswith('alembic') for name in sys.modules))")
    for _ in ("create it", "open it again"):
        loaded = subprocess.run([sys.executable, "-c", code, url], capture_output=True,
                                text=True, check=True).stdout.strip()
        assert loaded == "False"


def test_a_new_database_is_what_the_migrations_make(database_url: str) -> None:
    # A new database gets the tables of db.py directly; one migrated from the first
    # revision must end up with the very same schema.
    engine = sa.create_engine(database_url)
    try:
        _alembic(engine, "upgrade", "head")
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()
    store = Store.open(database_url)  # at head: nothing to do
    store.close()


def test_a_new_database_is_created_at_the_newest_revision(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        with store.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
            version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == HEAD_REVISION
    finally:
        store.close()


def test_fresh_database_gets_every_table(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        tables = sa.inspect(store.engine)
        assert {"feeds", "entries", "alembic_version"} <= set(tables.get_table_names())
        columns = {c["name"] for c in tables.get_columns("feeds")}
        assert {"moved_to", "gone_at", "content_hash", "interval_hint"} <= columns
    finally:
        store.close()


def test_database_from_before_migrations_is_upgraded_without_loss(database_url: str) -> None:
    # Build the first release's tables and data, as it left them: no alembic_version.
    engine = sa.create_engine(database_url)
    _alembic(engine, "upgrade", FIRST_REVISION)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))
        _insert_blog(connection, tags='["cm"]')
        connection.execute(sa.text(
            "INSERT INTO entries (feed_id, identity, signature, title, first_seen, dated, "
            "changed, content, summary, excerpt) VALUES (1, 'id:1', 'sig', 'Bonjour', "
            ":t, :t, :t, '<p>x</p>', '', 'x')"), {"t": datetime(2024, 1, 1)})
    migrate(engine)
    engine.dispose()
    store = Store.open(database_url)
    try:
        [entry] = store.latest_entries(10)
        assert (entry.feed_name, entry.title, entry.tags) == ("Blog", "Bonjour", ("cm",))
        assert entry.dated == datetime(2024, 1, 1, tzinfo=UTC)
        assert store.feed_states()["Blog"].moved_to is None
    finally:
        store.close()


def test_entries_stored_before_articles_are_fingerprinted(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    _alembic(engine, "upgrade", "0002")
    body = "<p>" + " ".join(f"mot{n}" for n in range(60)) + "</p>"
    with engine.begin() as connection:
        _insert_blog(connection)
        connection.execute(sa.text(
            "INSERT INTO entries (id, feed_id, identity, signature, title, link, first_seen, "
            "dated, changed, content, summary, excerpt) VALUES (7, 1, 'id:1', 'sig', "
            "'Bonjour', 'https://blog.example/bonjour?utm_source=x', :t, :t, :t, :c, '', '')"),
            {"t": datetime(2024, 1, 1), "c": body})
    migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(sa.text(
            "SELECT article_id, is_canonical, canonical_link, title_key, shingle_count "
            "FROM entries WHERE id = 7")).one()
        keys = connection.execute(sa.text(
            "SELECT count(*) FROM entry_keys WHERE entry_id = 7")).scalar()
    engine.dispose()
    assert tuple(row) == (7, True, "blog.example/bonjour", "bonjour", 56)
    assert keys == 16 + 3  # smallest hashes, link, title, lead


def test_processes_opening_a_fresh_database_together(database_url: str) -> None:
    # The daemon, `status` and a worker may all start at once: one migrates, the others wait.
    code = "import sys; from aggregator.store import Store; Store.open(sys.argv[1]).close()"
    processes = [subprocess.Popen([sys.executable, "-c", code, database_url],
                                  stderr=subprocess.PIPE, text=True) for _ in range(5)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 5, errors


def test_db_upgrade_command_applies_what_is_missing(database_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(database_url)
    _alembic(engine, "upgrade", "0005")
    engine.dispose()
    config = write_config(tmp_path, [], database=database_url, language="en")
    runner = CliRunner()
    first = runner.invoke(main, ["--config", str(config), "db", "upgrade"])
    assert first.exit_code == 0, first.output
    head = ScriptDirectory.from_config(_script_config()).get_current_head()
    assert f"from revision 0005 to {head}" in " ".join(first.output.split())
    again = runner.invoke(main, ["--config", str(config), "db", "upgrade"])
    assert f"is up to date (revision {head})" in " ".join(again.output.split())
    store = Store.open(database_url, upgrade=False)
    try:
        assert {"claimed_by", "claimed_until"} <= {
            c["name"] for c in sa.inspect(store.engine).get_columns("feeds")}
    finally:
        store.close()


def _script_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def test_sqlite_pool_hands_out_the_connection_returned_last(tmp_path: Path) -> None:
    # A connection opened for a moment of concurrency then idles: it does not take
    # turns with the busy one, filling a page cache and statement cache of its own.
    store = Store.open(f"sqlite:///{tmp_path / 'lifo.db'}")
    try:
        with store.engine.connect() as busy, store.engine.connect() as other:
            kept, spare = busy.connection.dbapi_connection, other.connection.dbapi_connection
        assert kept is not spare
        for _ in range(3):  # `other` went back first, `busy` last
            with store.engine.connect() as again:
                assert again.connection.dbapi_connection is kept
    finally:
        store.close()


def test_sqlite_connections_keep_few_prepared_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every length of an IN list is a statement of its own: 128 of them (Python's
    # default) held megabytes per connection, most never run again.
    opened: list[dict[str, object]] = []
    connect = sqlite3.dbapi2.connect  # what SQLAlchemy's pysqlite dialect calls

    def recording(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(kwargs)
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3.dbapi2, "connect", recording)
    store = Store.open(f"sqlite:///{tmp_path / 'statements.db'}")
    store.close()
    assert opened
    assert {o.get("cached_statements") for o in opened} == {SQLITE_CACHED_STATEMENTS}


def test_sqlite_connections_cache_the_key_index_and_checkpoint_seldom(tmp_path: Path) -> None:
    # A first poll of 1,000 feeds read 3.8 GB of pages back with SQLite's 2 MB cache and
    # checkpointed after nearly every commit with its 1,000-page WAL.
    store = Store.open(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with store.engine.connect() as connection:
            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("cache_size") == -SQLITE_CACHE_KIB
            assert pragma("wal_autocheckpoint") == SQLITE_WAL_PAGES
            assert pragma("journal_size_limit") == SQLITE_WAL_PAGES * 4096
            assert pragma("journal_mode") == "wal"
    finally:
        store.close()


def test_entries_are_fingerprinted_again_with_word_hashed_shingles(database_url: str) -> None:
    # 0009: a sketch of the earlier hash is replaced, and so are the sketch keys it was
    # filed under; the link, title and lead keys stay.
    engine = sa.create_engine(database_url)
    _alembic(engine, "upgrade", "0008")
    words = [f"mot{n}" for n in range(60)]
    body = "<p>" + " ".join(words) + "</p>"
    stale = tuple(range(-300, -172))  # 128 hashes no text gives
    kept = [hash64("link:blog.example/bonjour"), hash64("title:bonjour"), 42]
    with engine.begin() as connection:
        _insert_blog(connection)
        connection.execute(sa.text(
            "INSERT INTO entries (id, feed_id, identity, signature, title, link, first_seen, "
            "dated, changed, content, summary, excerpt, article_id, is_canonical, sketch, "
            "shingle_count) VALUES (7, 1, 'id:1', 'sig', 'Bonjour', "
            "'https://blog.example/bonjour', :t, :t, :t, :c, '', '', 7, :yes, :s, 128)"),
            {"t": datetime(2024, 1, 1), "c": body, "s": pack_sketch(stale), "yes": True})
        for key in [*stale[:16], *kept]:
            connection.execute(sa.text("INSERT INTO entry_keys (entry_id, key) VALUES (7, :k)"),
                               {"k": key})
    migrate(engine)
    with engine.connect() as connection:
        sketch, count = connection.execute(sa.text(
            "SELECT sketch, shingle_count FROM entries WHERE id = 7")).one()
        keys = {k for (k,) in connection.execute(sa.text(
            "SELECT key FROM entry_keys WHERE entry_id = 7"))}
    engine.dispose()
    found = fingerprint("Bonjour", "https://blog.example/bonjour", [" ".join(words)])
    assert (unpack_sketch(sketch), count) == (found.sketch, 56)
    assert keys == {*found.sketch[:16], *kept}


def _insert_bare_entry(connection: sa.Connection, entry_id: int) -> None:
    """An entry of the blog with only what the schema requires, titled "Revue"."""
    connection.execute(sa.text(
        "INSERT INTO entries (id, feed_id, identity, signature, title, first_seen, "
        "dated, changed, content, summary, excerpt, is_canonical, shingle_count) "
        "VALUES (:i, 1, :identity, 'sig', 'Revue', :t, :t, :t, '', '', '', :yes, 0)"),
        {"i": entry_id, "identity": f"id:{entry_id}", "t": datetime(2024, 1, 1), "yes": True})


def test_full_lists_are_marked_common(database_url: str) -> None:
    # 0010: the keys filed under POSTINGS_PER_KEY entries are marked, the others not.
    engine = sa.create_engine(database_url)
    _alembic(engine, "upgrade", "0009")
    with engine.begin() as connection:
        _insert_blog(connection)
        for entry_id in range(1, POSTINGS_PER_KEY + 1):
            _insert_bare_entry(connection, entry_id)
            keys = [hash64("title:revue"), 5] if entry_id < POSTINGS_PER_KEY else [
                hash64("title:revue")]
            for key in keys:
                connection.execute(sa.text(
                    "INSERT INTO entry_keys (entry_id, key) VALUES (:i, :k)"),
                    {"i": entry_id, "k": key})
    migrate(engine)
    with engine.connect() as connection:
        marked = set(connection.execute(sa.text("SELECT key FROM common_keys")).scalars())
    engine.dispose()
    assert marked == {hash64("title:revue")}


def _two_entries_with_keys(database_url: str, revision: str,
                           keys: list[tuple[int, int]]) -> sa.Engine:
    """A database at `revision` with entries 1 and 2 of the blog, filed under `keys`
    ((entry, key) pairs) in entry_keys."""
    engine = sa.create_engine(database_url)
    _alembic(engine, "upgrade", revision)
    with engine.begin() as connection:
        _insert_blog(connection)
        for entry_id in (1, 2):
            _insert_bare_entry(connection, entry_id)
        for entry_id, key in keys:
            connection.execute(sa.text("INSERT INTO entry_keys (entry_id, key) VALUES (:i, :k)"),
                               {"i": entry_id, "k": key})
    return engine


def test_entry_keys_are_clustered_by_key_and_lose_repeats(database_url: str) -> None:
    # 0011: the same (key, entry) pairs, each once, in a table keyed by (key, entry_id).
    engine = _two_entries_with_keys(
        database_url, "0010", [(1, 5), (1, 5), (1, -2**63), (2, 5), (2, 2**63 - 1)])
    _alembic(engine, "upgrade", "0011")
    with engine.begin() as connection:
        rows = connection.execute(sa.text("SELECT key, entry_id FROM entry_keys")).all()
        primary = sa.inspect(connection).get_pk_constraint("entry_keys")["constrained_columns"]
        if engine.dialect.name == "sqlite":  # as the store's connections have it
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.execute(sa.text("DELETE FROM entries WHERE id = 1"))
        left = connection.execute(sa.text("SELECT key, entry_id FROM entry_keys")).all()
    engine.dispose()
    assert sorted(rows) == [(-2**63, 1), (5, 1), (5, 2), (2**63 - 1, 2)]
    assert primary == ["key", "entry_id"]
    assert sorted(left) == [(5, 2), (2**63 - 1, 2)]  # the cascade still holds


def test_entry_keys_lose_their_foreign_key_and_recent_keys_come_back_on_downgrade(
        database_url: str) -> None:
    # 0018: the same keys, no cascade (the store removes an entry's keys itself); the
    # downgrade puts the recent level's keys back into entry_keys, and the cascade.
    engine = _two_entries_with_keys(database_url, "0017", [(1, 5), (1, -2**63), (2, 5)])
    _alembic(engine, "upgrade", "0018")
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":  # as the store's connections have it
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        references = sa.inspect(connection).get_foreign_keys("entry_keys")
        connection.execute(sa.text("DELETE FROM entries WHERE id = 2"))
        connection.execute(sa.text("INSERT INTO recent_keys (entry_id, key) VALUES (1, 7)"))
        upgraded = connection.execute(sa.text("SELECT key, entry_id FROM entry_keys")).all()
    _alembic(engine, "downgrade", "0017")
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        downgraded = connection.execute(sa.text("SELECT key, entry_id FROM entry_keys")).all()
        connection.execute(sa.text("DELETE FROM entries WHERE id = 1"))
        left = connection.execute(sa.text("SELECT count(*) FROM entry_keys")).scalar()
    engine.dispose()
    assert references == []
    assert sorted(upgraded) == [(-2**63, 1), (5, 1), (5, 2)]  # entry 2's stay: no cascade
    assert sorted(downgraded) == [(-2**63, 1), (5, 1), (7, 1)]  # entry 2's are gone now
    assert left == 0  # the cascade is back


def test_migrations_import_no_live_code_but_their_frozen_copies() -> None:
    """A migration must compute forever what it computed when released: it runs the
    frozen copies beside it (frozen_*.py, never edited), not dedup, poll or publish,
    whose changes would silently change what an old migration stores."""
    import ast

    def imported(tree: ast.AST) -> list[str]:
        names = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += ([f"{node.module}.{alias.name}" for alias in node.names]
                          if node.module == "aggregator" else [node.module])
        return names

    checked = set()
    for path in sorted(MIGRATIONS.rglob("*.py")):
        # env.py only hands alembic the tables of today, for autogenerate to compare.
        allowed = ("aggregator.store.migrations.", *(
            ["aggregator.store.schema"] if path.name == "env.py" else []))
        for name in imported(ast.parse(path.read_text(encoding="utf-8"))):
            if name.split(".")[0] == "aggregator":
                assert name.startswith(allowed), f"{path.name} imports {name}"
                checked.add(path.name)
    assert {"0003_articles.py", "0004_media_language.py", "0009_word_shingle_hashes.py",
            "env.py"} <= checked
