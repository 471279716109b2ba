"""A durable, append-only results store (SQLite in WAL mode).

One row per (dataset, subject, session, pipeline key, evaluation, context,
data version, fold). Rows of one task (one pipeline fitted on one fold) are
written in one transaction with ``synchronous=FULL``, so a run killed at any
moment loses at most the tasks in flight; re-running skips the tasks already
stored and ``INSERT OR IGNORE`` on the primary key makes duplicates impossible.

What the key columns hold (see :func:`neurodec.evaluation.identity.run_context`
for the exact choice):

- ``pipeline_key``: the pipeline's name plus a hash of its definition and of
  its ``param_grid``, so a changed pipeline is a new pipeline, never an
  overwrite of the old rows, and the other pipelines of a run do not matter;
- ``context``: a hash of the run settings that change a fold's split or score
  (protocol and its options, paradigm and its parameters, seed, metric; for
  cross-subject protocols also the subjects and their data versions, since
  every fold trains on them); its description is kept in the ``contexts`` table;
- ``data_version``: the version (fingerprint of options and local files) of the
  data of the row's subject, so fixing one subject's file invalidates only the
  folds that read it. ``data_versions`` records when each version was last used,
  which tells current rows from rows computed on older data.

Stores written by neurodec before these columns existed (schema 1) are migrated
on the first write: their rows are kept, marked ``data_version="legacy"``
(reported apart, never reused). A store that cannot be read (corrupt pages) is
reported with :class:`~neurodec.errors.InvalidDataError` and left untouched;
``readonly=True`` opens a store without ever writing to it (``results show``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import stat
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pandas as pd

from neurodec.atomic import atomic_write
from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError

__all__ = [
    "ResultsStore",
    "RESULT_COLUMNS",
    "SCHEMA_VERSION",
    "resolve_store_path",
    "check_writable",
    "is_read_only",
]

log = logging.getLogger(__name__)

#: version of the table layout, kept in SQLite's ``user_version``
SCHEMA_VERSION = 2

#: column name -> SQLite type, in table order
RESULT_COLUMNS: dict[str, str] = {
    "dataset": "TEXT NOT NULL",
    "subject": "INTEGER NOT NULL",
    "session": "TEXT NOT NULL",
    "pipeline": "TEXT NOT NULL",
    "pipeline_key": "TEXT NOT NULL",
    "evaluation": "TEXT NOT NULL",
    "context": "TEXT NOT NULL",
    "data_version": "TEXT NOT NULL",
    "seed": "INTEGER",
    "paradigm": "TEXT NOT NULL",
    "fold": "INTEGER NOT NULL",
    "task": "TEXT NOT NULL",
    "metric": "TEXT NOT NULL",
    "score": "REAL",
    "time": "REAL",
    "predict_time": "REAL",
    "n_train": "INTEGER",
    "n_test": "INTEGER",
    "n_classes": "INTEGER",
    "n_channels": "INTEGER",
    "created": "REAL",
}
_KEY = ("dataset", "subject", "session", "pipeline_key", "evaluation", "context", "data_version", "fold")
#: values of the columns added in schema 2, for rows that lack them
_DEFAULTS = {"data_version": "", "paradigm": "", "seed": None}
LEGACY_VERSION = "legacy"

STORE_FILENAME = "results.sqlite"


def resolve_store_path(path: str | os.PathLike) -> Path:
    """A ``.sqlite``/``.db`` file as given, otherwise ``<dir>/results.sqlite``."""
    path = Path(path).expanduser()
    if path.suffix in {".sqlite", ".db", ".sqlite3"}:
        return path
    if path.exists() and not path.is_dir():
        raise InvalidInputError(
            f"results path {path} is a file but not a .sqlite store; pass a folder "
            "(the store is written as <folder>/results.sqlite) or a .sqlite path"
        )
    return path / STORE_FILENAME


def is_read_only(path: Path) -> bool:
    """No write permission, or no write bit at all (honoured even for root)."""
    write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return not os.access(path, os.W_OK) or not (path.stat().st_mode & write_bits)


def check_writable(path: str | os.PathLike) -> Path:
    """Raise :class:`InvalidInputError` unless the store at ``path`` (and the
    folder it lives in, which SQLite needs for its journal) can be written.

    Returns the store's file path. Nothing is created.
    """
    store = resolve_store_path(path)
    folder = store.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the first existing folder must let us create the rest
    what = None
    if store.exists() and is_read_only(store):
        what = f"the store {store} is read-only"
    elif folder.is_dir() and is_read_only(folder):
        what = f"the folder {folder} is read-only"
    if what:
        raise InvalidInputError(
            f"cannot write results to {store}: {what}; pass another --results folder or make it "
            f"writable (`neurodec results {store.parent} show` reads it as it is)"
        )
    return store


def _cause(exc: BaseException) -> BaseException:
    """The sqlite3 error behind ``exc`` (pandas wraps it in its own DatabaseError)."""
    seen = exc
    while seen is not None and not isinstance(seen, sqlite3.Error):
        seen = seen.__cause__ or seen.__context__
    return seen or exc


class ResultsStore:
    """Append-only results table.

    Parameters
    ----------
    path : str | Path | None
        A folder (the store is ``<folder>/results.sqlite``), a ``.sqlite`` file,
        or ``None`` for an in-memory store that lives as long as this object.
    readonly : bool
        Open an existing store for reading only (SQLite ``mode=ro``): works on a
        read-only file or folder and never changes the file.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, readonly: bool = False) -> None:
        self.readonly = readonly
        if path is None:
            if readonly:
                raise InvalidInputError("readonly=True needs the path of an existing store")
            self.path = None
            self._conn = sqlite3.connect(":memory:", check_same_thread=False)
            self._setup()
            return
        self.path = resolve_store_path(path)
        if readonly:
            if not self.path.is_file():
                raise DataNotFoundError(f"no results store at {self.path}")
        else:
            check_writable(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = None
        try:
            with self._guard():
                self._conn = self._connect()
                self._check_integrity()
                self._setup()
        except BaseException:
            if self._conn is not None:
                self._conn.close()
            raise

    # -- opening ------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if not self.readonly:
            conn = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            return conn
        uri = f"file:{urllib.parse.quote(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError as exc:
            name = getattr(exc, "sqlite_errorname", "")
            conn.close()
            if not name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
                raise
        # A WAL store in a read-only folder: SQLite cannot create its shared-memory
        # file there, and no writer can be at work either, so read the file as is.
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            log.warning("%s: its write-ahead log %s cannot be read in a read-only folder", self.path, wal)
        conn = sqlite3.connect(uri + "&immutable=1", uri=True, timeout=60, check_same_thread=False)
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn

    def _check_integrity(self) -> None:
        problems = [r[0] for r in self._conn.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise InvalidDataError(self._corrupt_message("; ".join(problems[:2])))

    def _corrupt_message(self, detail: str) -> str:
        p = self.path
        return (
            f"the results store {p} is corrupt ({detail}); it was left untouched. Recover its rows "
            f"with `sqlite3 {p} .recover | sqlite3 {p.parent / 'recovered.sqlite'}` and pass that file "
            f"(the folder's results.csv holds a copy of every row as of the last benchmark), or move "
            f"{p.name} away to start a new store"
        )

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite failures into one-line neurodec errors that say what to do."""
        try:
            yield
        except (InvalidDataError, InvalidInputError, DataNotFoundError):
            raise
        except Exception as exc:  # sqlite3.Error, or pandas' DatabaseError around one
            err = _cause(exc)
            if not isinstance(err, sqlite3.Error):
                raise
            name = getattr(err, "sqlite_errorname", "") or ""
            where = self.path if self.path is not None else ":memory:"
            if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in str(err):
                raise InvalidDataError(self._corrupt_message(str(err))) from exc
            if name.startswith("SQLITE_READONLY"):
                raise InvalidInputError(
                    f"cannot write results to {where} ({err}); pass another --results folder or "
                    "make it writable"
                ) from exc
            raise InvalidDataError(f"could not use the results store {where}: {err}") from exc

    def _check_layout(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise InvalidDataError(
                f"the results store {self.path} was written by a newer neurodec (schema {version}, this "
                f"one reads up to {SCHEMA_VERSION}); upgrade neurodec or pass another --results folder"
            )
        self._legacy = "results" in self._tables() and "data_version" not in self._columns("results")

    def _setup(self) -> None:
        if self.readonly:
            self._check_layout()  # an older layout is read as it is (see to_frame)
            return
        cols = ", ".join(f"{c} {t}" for c, t in RESULT_COLUMNS.items())
        create_results = f"CREATE TABLE {{}} ({cols}, PRIMARY KEY ({', '.join(_KEY)}))"
        self._conn.execute("BEGIN IMMEDIATE")  # one process at a time migrates or creates
        try:
            self._check_layout()
            if self._legacy:
                self._migrate(create_results)
            self._conn.execute(create_results.format("IF NOT EXISTS results"))
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS completed (dataset TEXT, evaluation TEXT, context TEXT, "
                "pipeline_key TEXT, subject INTEGER, data_version TEXT, "
                "PRIMARY KEY (dataset, evaluation, context, pipeline_key, subject, data_version))"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS contexts (context TEXT PRIMARY KEY, description TEXT NOT NULL)"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS data_versions (dataset TEXT, subject INTEGER, "
                "data_version TEXT, seen REAL, PRIMARY KEY (dataset, subject, data_version))"
            )
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        self._legacy = False

    def _migrate(self, create_results: str) -> None:
        """Schema 1 -> 2 inside the caller's transaction: every row kept, marked legacy."""
        old = [c for c in self._columns("results") if c in RESULT_COLUMNS]
        fill = {"data_version": f"'{LEGACY_VERSION}'", "paradigm": "''", "seed": "NULL"}
        added = [c for c in fill if c not in old]
        self._conn.execute(create_results.format("results_v2"))
        self._conn.execute(
            f"INSERT INTO results_v2 ({', '.join(old + added)}) "
            f"SELECT {', '.join(old + [fill[c] for c in added])} FROM results"
        )
        n = self._conn.execute("SELECT COUNT(*) FROM results_v2").fetchone()[0]
        self._conn.execute("DROP TABLE results")
        self._conn.execute("ALTER TABLE results_v2 RENAME TO results")
        self._conn.execute("DROP TABLE IF EXISTS completed")
        log.warning(
            "%s: upgraded a results store written by an older neurodec; its %d rows are kept and "
            "reported apart (data=legacy) but not reused: their run settings were not recorded",
            self.path,
            n,
        )

    def _tables(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    def _columns(self, table: str) -> list[str]:
        return [r[1] for r in self._conn.execute(f"PRAGMA table_info({table})")]

    def _writing(self) -> None:
        if self.readonly:
            raise InvalidInputError(f"{self.path} was opened read-only; open it without readonly=True")

    # -- writing ------------------------------------------------------------
    def add(self, rows: Iterable[Mapping]) -> int:
        """Append the rows of one task in one durable transaction.

        Returns the number of rows actually inserted (rows already present are
        ignored).
        """
        self._writing()
        rows = list(rows)
        names = list(RESULT_COLUMNS)
        now = time.time()
        values = [
            tuple(
                now if c == "created" and row.get(c) is None else row.get(c, _DEFAULTS.get(c)) for c in names
            )
            for row in rows
        ]
        with self._guard(), self._conn:
            cur = self._conn.executemany(
                f"INSERT OR IGNORE INTO results ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                values,
            )
        return cur.rowcount if cur.rowcount is not None else len(rows)

    def delete(
        self,
        dataset: str,
        evaluation: str,
        context: str,
        pipeline_keys: Iterable[str],
        versions: Mapping[int, str] | None = None,
    ) -> int:
        """Remove the rows of these pipelines (used by ``overwrite=True``); with
        ``versions`` ({subject: data version}) only those subjects' rows of that data."""
        self._writing()
        keys = list(pipeline_keys)
        if not keys:
            return 0
        where = (
            f"WHERE dataset=? AND evaluation=? AND context=? "
            f"AND pipeline_key IN ({', '.join('?' * len(keys))})"
        )
        params: tuple = (dataset, evaluation, context, *keys)
        if versions is not None:
            pairs = list(versions.items())
            if not pairs:
                return 0
            where += " AND (" + " OR ".join(["(subject=? AND data_version=?)"] * len(pairs)) + ")"
            params += tuple(v for pair in pairs for v in (int(pair[0]), str(pair[1])))
        with self._guard(), self._conn:
            cur = self._conn.execute(f"DELETE FROM results {where}", params)
            self._conn.execute(f"DELETE FROM completed {where}", params)
        return cur.rowcount

    def mark_complete(
        self,
        dataset: str,
        evaluation: str,
        context: str,
        pipeline_key: str,
        subject: int,
        data_version: str = "",
    ) -> None:
        """Record that every fold of ``(pipeline_key, subject)`` on this data version
        is stored (``subject=-1``: the whole dataset, for cross-subject protocols)."""
        self._writing()
        with self._guard(), self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO completed VALUES (?, ?, ?, ?, ?, ?)",
                (dataset, evaluation, context, pipeline_key, int(subject), str(data_version)),
            )

    def register_context(self, context: str, description: Mapping) -> None:
        """Keep the description of a context hash (what reports label runs with)."""
        self._writing()
        with self._guard(), self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO contexts VALUES (?, ?)",
                (context, json.dumps(description, sort_keys=True, default=str)),
            )

    def record_data_versions(self, dataset: str, versions: Mapping[int, str]) -> None:
        """Note that a run used these data versions ({subject: version}) now."""
        self._writing()
        now = time.time()
        with self._guard(), self._conn:
            self._conn.executemany(
                "INSERT INTO data_versions VALUES (?, ?, ?, ?) "
                "ON CONFLICT (dataset, subject, data_version) DO UPDATE SET seen=excluded.seen",
                [(dataset, int(s), str(v), now) for s, v in versions.items()],
            )

    # -- reading ------------------------------------------------------------
    def completed(self, dataset: str, evaluation: str, context: str) -> set[tuple[str, int, str]]:
        """``{(pipeline_key, subject, data_version)}`` marked complete."""
        if "completed" not in self._tables() or self._legacy:
            return set()
        with self._guard():
            cur = self._conn.execute(
                "SELECT pipeline_key, subject, data_version FROM completed "
                "WHERE dataset=? AND evaluation=? AND context=?",
                (dataset, evaluation, context),
            )
            return {(k, int(s), str(v)) for k, s, v in cur.fetchall()}

    def done_tasks(self, dataset: str, evaluation: str, context: str) -> set[tuple[str, str, str]]:
        """``{(pipeline_key, task, data_version)}`` already stored for this dataset and context."""
        if self._legacy:
            return set()
        with self._guard():
            cur = self._conn.execute(
                "SELECT DISTINCT pipeline_key, task, data_version FROM results "
                "WHERE dataset=? AND evaluation=? AND context=?",
                (dataset, evaluation, context),
            )
            return set(cur.fetchall())

    def contexts(self) -> dict[str, dict]:
        """Context hash -> its description (run settings), for the contexts recorded."""
        if "contexts" not in self._tables():
            return {}
        with self._guard():
            rows = self._conn.execute("SELECT context, description FROM contexts").fetchall()
        return {c: json.loads(d) for c, d in rows}

    def current_data_versions(self) -> dict[tuple[str, int], str]:
        """``{(dataset, subject): data version}`` used most recently by a run."""
        if "data_versions" not in self._tables():
            return {}
        with self._guard():
            rows = self._conn.execute(
                "SELECT dataset, subject, data_version FROM data_versions ORDER BY seen"
            ).fetchall()
        return {(d, int(s)): v for d, s, v in rows}  # the last seen wins

    def to_frame(self, **where: object) -> pd.DataFrame:
        """All rows (optionally filtered by equality on columns) as a DataFrame."""
        bad = set(where) - set(RESULT_COLUMNS)
        if bad:
            raise InvalidInputError(f"unknown result column(s) {sorted(bad)}")
        if "results" not in self._tables():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS})
        have = set(self._columns("results"))
        fill = {c: (LEGACY_VERSION if c == "data_version" else _DEFAULTS[c]) for c in _DEFAULTS}
        select = ", ".join(c if c in have else f"{_sql_literal(fill[c])} AS {c}" for c in RESULT_COLUMNS)
        clause = " AND ".join(f"{k if k in have else _sql_literal(fill[k])}=?" for k in where)
        sql = f"SELECT {select} FROM results" + (f" WHERE {clause}" if clause else "")
        sql += " ORDER BY dataset, evaluation, pipeline, subject, session, fold"
        with self._guard():
            return pd.read_sql_query(sql, self._conn, params=tuple(where.values()))

    def view(self, pool: bool = False) -> pd.DataFrame:
        """Every row, labelled with its run (see :func:`neurodec.evaluation.summary.label_runs`):
        rows of different run contexts are kept apart unless ``pool=True``."""
        from neurodec.evaluation.summary import label_runs

        return label_runs(self.to_frame(), self.contexts(), self.current_data_versions(), pool=pool)

    def __len__(self) -> int:
        if "results" not in self._tables():
            return 0
        with self._guard():
            return int(self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write every row to a CSV file (atomically) and return its path."""
        frame = self.to_frame()
        return atomic_write(Path(path), lambda p: frame.to_csv(p, index=False))

    def export_parquet(self, path: str | os.PathLike) -> Path:
        """Write every row to a Parquet file (atomically) and return its path."""
        frame = self.to_frame()
        return atomic_write(Path(path), lambda p: frame.to_parquet(p, index=False))

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path) if self.path else ':memory:'}, rows={len(self)})"


def _sql_literal(value: object) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"
