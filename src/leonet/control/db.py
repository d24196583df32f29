"""Schema, engines and write transactions for the control-plane store.

One schema for SQLite (the embedded default: one file in WAL mode) and PostgreSQL, chosen by
the URL (``sqlite:///path/control.db``, ``postgresql://user:pw@127.0.0.1:5432/db``), created
and upgraded by the Alembic migrations in :mod:`leonet.control.migrations`.

Writers are serialised so that the audit hash chain stays linear: every write transaction
starts by locking the chain head row (``SELECT ... FOR UPDATE`` on PostgreSQL) and, on
SQLite, with ``BEGIN IMMEDIATE`` (the database write lock, waited for up to the busy
timeout). A write and its audit entries so commit together or not at all.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError

from leonet.control.errors import StoreError
from leonet.errors import InputError

SQLITE_BUSY_TIMEOUT_S = 60.0  # writers queue on the lock; a control plane prefers waiting to failing
# Room for one per server thread (ServerSettings.threads, 16 by default) plus the writers' and the
# failed-login flusher's; once opened a connection is kept, so a loaded server never opens one per request (a PostgreSQL connection costs a
# process fork and a SCRAM key derivation on both sides: milliseconds of CPU).
POOL_SIZE, POOL_OVERFLOW = 48, 32
URL_HELP = "give --db sqlite:///path/to/control.db or --db postgresql://user:password@127.0.0.1:5432/dbname"

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("party", String(200), nullable=False),
    Column("entitlements", Text, nullable=False),  # JSON list of region keys (partners)
    Column("active", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
    # Separation of duties: the admin who last granted this user a credential or role, and the
    # different admin who confirmed it (NULL: unconfirmed, so the user cannot approve requests).
    Column("granted_by", String(64), nullable=True),
    Column("confirmed_by", String(64), nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 hex; tokens are never stored
    Column("created_at", String(40), nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("kind", String(8), nullable=False),  # token | enrol (a one-time code that the user trades for a token)
    Column("issued_by", String(64), nullable=False),
    Column("expires_at", String(40), nullable=False),  # ISO-8601 UTC, compared as text
)

regions = Table(
    "regions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # country | polygon | cells
    Column("name", String(200), nullable=False),
    Column("country", String(100), nullable=True),  # ISO alpha-3 (or name when it has none) for kind=country
    Column("geometry", Text, nullable=True),  # GeoJSON for kind=polygon
    Column("cells", Text, nullable=True),  # JSON list of H3 ids (hex) for kind=cells
    Column("h3_res", Integer, nullable=True),
    Column("sensitive", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region_id", Integer, ForeignKey("regions.id"), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # activate | deactivate
    Column("justification", Text, nullable=False),
    Column("filed_by", String(64), nullable=False),
    Column("party", String(200), nullable=False),
    Column("on_behalf_of", String(200), nullable=True),
    Column("valid_from", BigInteger, nullable=True),  # ns since 1970 UTC; NULL = unbounded
    Column("valid_to", BigInteger, nullable=True),
    Column("state", String(16), nullable=False),  # pending | approved | rejected | withdrawn
    Column("backdated", Boolean, nullable=False),  # valid_from before filing, asked for explicitly
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("requests.id"), nullable=False, index=True),
    Column("decided_by", String(64), nullable=False),
    Column("decision", String(16), nullable=False),  # approve | reject | withdraw
    Column("reason", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    # One approval per operator per request, enforced by the database as well.
    UniqueConstraint("request_id", "decided_by", "decision", name="uq_decision_once"),
)

policy_states = Table(
    "policy_states",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("region_id", Integer, ForeignKey("regions.id"), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("valid_from", BigInteger, nullable=True),
    Column("valid_to", BigInteger, nullable=True),
    Column("reason", Text, nullable=False),
    Column("request_id", Integer, ForeignKey("requests.id"), nullable=True, unique=True),
    Column("backdated", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(64), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON, hashed as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Ed25519 signature of the hash by the writers' key (outside the database; NULL: no key).
    Column("sig", String(128), nullable=True),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("store_id", String(36), nullable=False),  # names this store in signed checkpoints
)

# The tables the audit log can rebuild (every write records their new rows): see replay.py.
DATA_TABLES = (users, tokens, regions, requests, decisions, policy_states)


def normalise_url(url: str) -> str:
    """Check a database URL and pick the driver leonet uses (psycopg 3 for PostgreSQL)."""
    text = (url or "").strip()
    if not text:
        raise InputError(f"no database URL; {URL_HELP}")
    try:
        u = make_url(text)
    except ArgumentError:
        raise InputError(f"cannot read database URL {text!r}; {URL_HELP}") from None
    backend = u.get_backend_name()
    if backend == "sqlite":
        if not u.database or u.database == ":memory:" or u.database.startswith("file:"):
            raise InputError(f"SQLite URL {text!r} names no file; the store must be one file, {URL_HELP}")
        return u.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise InputError(f"database URL {u.render_as_string()!r} is neither SQLite nor PostgreSQL; {URL_HELP}")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, must_exist: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync, foreign keys and a busy timeout.

    ``must_exist``: refuse a SQLite file that is not there yet (only ``db init`` creates one).
    """
    norm = normalise_url(url)
    u = make_url(norm)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        if must_exist and not path.is_file():
            raise StoreError(f"no control database at {path}; create it with `leonet db init --db {url}`")
        if not path.parent.is_dir():
            raise InputError(f"folder {path.parent} for the SQLite database does not exist; create it first")
        engine = create_engine(norm, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                               pool_timeout=60)
        _configure_sqlite(engine)
        return engine
    # No pre-ping (a round trip before every checkout, two per request): a connection that
    # died with a PostgreSQL restart fails its one request with 503 ("retry"), and SQLAlchemy
    # then renews the whole pool.
    return create_engine(norm, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, pool_timeout=60)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a crash
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: no deadlock-prone lock upgrade mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("leonet_write") else "BEGIN")


MAX_GROUP = 64  # write transactions sharing one commit, at most


class _Group:
    """One open database transaction that several writers' changes join (a group commit)."""

    __slots__ = ("conn", "tx", "head", "members", "broken", "error", "done")

    def __init__(self, conn: Connection, tx: Any, head: tuple[int, str]) -> None:
        self.conn, self.tx, self.head, self.members, self.broken = conn, tx, head, 0, False
        self.error: BaseException | None = None
        self.done = threading.Event()


class GroupCommit:
    """The writers of one engine in this process: one at a time, sharing commits.

    Every writer holds the chain head for the whole of its change, one after the other, so the
    chain stays linear. A commit waits for the disk (an fsync of SQLite's WAL or PostgreSQL's
    WAL, milliseconds on a shared disk); done once per writer, those waits queued up and made
    the latency tail seconds long under 50 clients. So a writer that finishes while others
    wait in line leaves the transaction open; the next one adds its change after it, and the
    last in line (or the :data:`MAX_GROUP`-th) commits them all at once. Each change after the
    first runs from its own savepoint: one that fails is rolled back alone and its caller gets
    its error, the others go on (a failing first change rolls back the transaction, then
    holding nothing else). Nobody's call returns before the commit holding its change has
    succeeded, so an acknowledged write is on disk exactly as before; if that commit fails,
    every caller in the group gets the error and none of their changes is stored.
    """

    def __init__(self, engine: Engine, max_group: int = MAX_GROUP) -> None:
        self.engine, self.max_group = engine, max_group
        self._lock = threading.Lock()  # the chain head within this process
        self._count_lock = threading.Lock()
        self._queued = 0  # writers waiting for self._lock
        self._group: _Group | None = None

    def _open(self) -> _Group:
        conn = self.engine.connect()
        try:
            conn.execution_options(leonet_write=True)
            tx = conn.begin()
            # Across processes the database orders writers: the head row lock (PostgreSQL),
            # BEGIN IMMEDIATE's write lock (SQLite).
            got = conn.execute(_HEAD_FOR_UPDATE).first()
            if got is None:
                raise StoreError("the control database has no audit chain head; it was not initialised with `leonet db init`")
            head = conn.info["leonet_head"] = (int(got.seq), got.hash)
            return _Group(conn, tx, head)
        except BaseException:
            conn.close()  # rolls back
            raise

    def _finish(self, g: _Group) -> None:
        """Commit the group (or roll it back when broken); always wakes its members."""
        self._group = None
        try:
            try:
                with store_errors():
                    if g.broken:
                        g.tx.rollback()
                        raise StoreError("the database failed in the middle of a write; nothing of it was stored, retry")
                    # audit.append keeps the new head in conn.info while write_tx holds it: stored once, with the commit.
                    head = g.conn.info["leonet_head"]
                    if head != g.head:
                        g.conn.execute(SET_AUDIT_HEAD, {"new_seq": head[0], "new_hash": head[1]})
                    g.tx.commit()
            except BaseException as exc:
                g.error = exc
                # Whatever state a failed commit left the connection in, it is not reused:
                # discarding it rolls back whatever the database still holds of the group.
                with suppress(BaseException):
                    g.conn.info.pop("leonet_head", None)
                with suppress(BaseException):
                    g.conn.invalidate()
            else:
                g.conn.info.pop("leonet_head", None)
            with suppress(BaseException):
                g.conn.close()
        finally:
            g.done.set()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._count_lock:
            self._queued += 1
        try:
            self._lock.acquire()
        finally:
            with self._count_lock:
                self._queued -= 1
        failure: BaseException | None = None
        try:
            g = self._group
            if g is None:
                g = self._group = self._open()
        except BaseException:
            self._lock.release()
            raise
        try:
            conn = g.conn
            head = conn.info["leonet_head"]
            # A savepoint before each change but the group's first (which has nothing before it
            # to protect: if it fails, the whole transaction is rolled back). Never released
            # (a round trip saved): a savepoint of the same name hides the earlier ones.
            protect = g.members > 0
            if protect:
                try:
                    conn.exec_driver_sql("SAVEPOINT leonet_change")
                except BaseException:
                    g.broken = True
                    raise
            try:
                yield conn
            except BaseException as exc:  # the caller's own error: undo its change only
                failure = exc
                conn.info["leonet_head"] = head
                if protect:
                    try:
                        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT leonet_change")
                    except BaseException:
                        g.broken = True
                else:
                    g.broken = True
        finally:
            g.members += 1
            try:
                with self._count_lock:
                    last = self._queued == 0
                if last or g.broken or g.members >= self.max_group:
                    self._finish(g)
            finally:
                self._lock.release()
        g.done.wait()
        if failure is not None:
            raise failure
        if g.error is not None:
            raise g.error


_HEAD_FOR_UPDATE = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
SET_AUDIT_HEAD = update(audit_head).where(audit_head.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
_GROUPS: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def _group_commit(engine: Engine) -> GroupCommit:
    with _GROUPS_LOCK:
        got = _GROUPS.get(engine)
        if got is None:
            got = _GROUPS[engine] = GroupCommit(engine)
        return got


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A write transaction holding the chain head; its change is committed on success (possibly
    in one commit with other writers' changes, :class:`GroupCommit`), else rolled back.

    Writers of one process queue on a lock first, so they wait in line instead of polling the
    database's lock (SQLite's busy handler sleeps in growing steps); the database lock still
    orders writers across processes. Returns only once the change is committed.
    """
    with store_errors(), _group_commit(engine).write() as conn:
        yield conn


@contextmanager
def read_tx(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction (one consistent snapshot on SQLite; rolled back at the end)."""
    with store_errors(), engine.connect() as conn:
        with conn.begin() as tx:
            yield conn
            tx.rollback()


@contextmanager
def read_one(engine: Engine) -> Iterator[Connection]:
    """A connection for a read of one statement (on its own a consistent snapshot): on
    PostgreSQL without a transaction around it, which saves the BEGIN and ROLLBACK round trips
    (the token check of every request reads this way)."""
    with store_errors(), engine.connect() as conn:
        if not is_sqlite(engine):
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


@contextmanager
def store_errors() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        msg = str(exc.orig) if exc.orig is not None else str(exc)
        raise StoreError(f"database busy or unreachable ({msg.strip().splitlines()[0]}); retry, or check the --db URL and that the server is running") from None
    except DatabaseError as exc:  # e.g. a file that is not a database
        msg = str(exc.orig) if exc.orig is not None else str(exc)
        raise StoreError(f"the --db URL does not hold a usable database ({msg.strip().splitlines()[0]})") from None


def check_initialised(engine: Engine) -> None:
    """Raise :class:`StoreError` unless the schema exists and is at the newest migration."""
    from leonet.control.migrations_api import current_revision, head_revision

    with store_errors():
        have = inspect(engine).get_table_names()
    if "alembic_version" not in have or "audit_head" not in have:
        raise StoreError(f"{engine.url.render_as_string()} is not a leonet control database; create it with `leonet db init --db URL`")
    cur, head = current_revision(engine), head_revision()
    if cur != head:
        raise StoreError(f"control database schema is at revision {cur}, leonet needs {head}; run `leonet db upgrade --db URL`")


_INSERTS: dict[str, Any] = {}
_UPDATES: dict[str, Any] = {}


def insert_row(conn: Connection, table: Table, **values: object) -> Any:
    """Insert one row and return it as stored (for the audit entry's row image), in one round trip.

    The statement is built once per table and the values bound at execution: building
    ``insert(...).values(...)`` per call cost more CPU than the database's own work."""
    stmt = _INSERTS.get(table.name)
    if stmt is None:
        stmt = _INSERTS[table.name] = insert(table).returning(*table.c)
    return conn.execute(stmt, values).one()


def update_row(conn: Connection, table: Table, row_id: int, **values: object) -> Any:
    """Update one row by id and return it as it now stands, in one round trip (statement built once)."""
    stmt = _UPDATES.get(table.name)
    if stmt is None:
        stmt = _UPDATES[table.name] = update(table).where(table.c.id == bindparam("row_id")).returning(*table.c)
    return conn.execute(stmt, {"row_id": row_id, **values}).one()
