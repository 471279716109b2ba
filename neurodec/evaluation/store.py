"""A durable, append-only results store (SQLite in WAL mode).

One row per (dataset, subject, session, pipeline key, evaluation, context,
fold). Rows of one task (one pipeline fitted on one fold) are written in one
transaction with ``synchronous=FULL``, so a run killed at any moment loses at
most the tasks in flight; re-running skips the tasks already stored and
``INSERT OR IGNORE`` on the primary key makes duplicates impossible.

``pipeline_key`` is the pipeline's name plus a hash of its definition, so a
changed pipeline is a new pipeline, never an overwrite of the old rows.
``context`` is a hash of everything else that changes a score (paradigm,
protocol options, seed, metric).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from neurodec.errors import ConfigError, InvalidInputError

__all__ = ["ResultsStore", "RESULT_COLUMNS", "resolve_store_path"]

log = logging.getLogger(__name__)

#: column name -> SQLite type, in table order
RESULT_COLUMNS: dict[str, str] = {
    "dataset": "TEXT NOT NULL",
    "subject": "INTEGER NOT NULL",
    "session": "TEXT NOT NULL",
    "pipeline": "TEXT NOT NULL",
    "pipeline_key": "TEXT NOT NULL",
    "evaluation": "TEXT NOT NULL",
    "context": "TEXT NOT NULL",
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
_KEY = ("dataset", "subject", "session", "pipeline_key", "evaluation", "context", "fold")

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


class ResultsStore:
    """Append-only results table.

    Parameters
    ----------
    path : str | Path | None
        A folder (the store is ``<folder>/results.sqlite``), a ``.sqlite`` file,
        or ``None`` for an in-memory store that lives as long as this object.
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        if path is None:
            self.path = None
            self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        else:
            self.path = resolve_store_path(path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=FULL")
            except sqlite3.DatabaseError as exc:
                raise ConfigError(
                    f"{self.path} is not a readable results store ({exc}); move it away "
                    "or pass another --results folder"
                ) from exc
        cols = ", ".join(f"{c} {t}" for c, t in RESULT_COLUMNS.items())
        try:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS results ({cols}, PRIMARY KEY ({', '.join(_KEY)}))"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS completed (dataset TEXT, evaluation TEXT, context TEXT, "
                "pipeline_key TEXT, subject INTEGER, "
                "PRIMARY KEY (dataset, evaluation, context, pipeline_key, subject))"
            )
            self._conn.commit()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(
                f"{self.path} is not a readable results store ({exc}); move it away "
                "or pass another --results folder"
            ) from exc

    # -- writing ------------------------------------------------------------
    def add(self, rows: Iterable[Mapping]) -> int:
        """Append the rows of one task in one durable transaction.

        Returns the number of rows actually inserted (rows already present are
        ignored).
        """
        rows = list(rows)
        names = list(RESULT_COLUMNS)
        now = time.time()
        values = [
            tuple(now if c == "created" and row.get(c) is None else row.get(c) for c in names) for row in rows
        ]
        with self._conn:
            cur = self._conn.executemany(
                f"INSERT OR IGNORE INTO results ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                values,
            )
        return cur.rowcount if cur.rowcount is not None else len(rows)

    def delete(self, dataset: str, evaluation: str, context: str, pipeline_keys: Iterable[str]) -> int:
        """Remove the rows of these pipelines (used by ``overwrite=True``)."""
        keys = list(pipeline_keys)
        if not keys:
            return 0
        where = (
            f"WHERE dataset=? AND evaluation=? AND context=? "
            f"AND pipeline_key IN ({', '.join('?' * len(keys))})"
        )
        with self._conn:
            cur = self._conn.execute(f"DELETE FROM results {where}", (dataset, evaluation, context, *keys))
            self._conn.execute(f"DELETE FROM completed {where}", (dataset, evaluation, context, *keys))
        return cur.rowcount

    def mark_complete(
        self, dataset: str, evaluation: str, context: str, pipeline_key: str, subject: int
    ) -> None:
        """Record that every fold of ``(pipeline_key, subject)`` is stored
        (``subject=-1``: the whole dataset, for cross-subject protocols)."""
        with self._conn:
            self._conn.execute(
                "INSERT OR IGNORE INTO completed VALUES (?, ?, ?, ?, ?)",
                (dataset, evaluation, context, pipeline_key, int(subject)),
            )

    def completed(self, dataset: str, evaluation: str, context: str) -> set[tuple[str, int]]:
        """``{(pipeline_key, subject)}`` marked complete."""
        cur = self._conn.execute(
            "SELECT pipeline_key, subject FROM completed WHERE dataset=? AND evaluation=? AND context=?",
            (dataset, evaluation, context),
        )
        return {(k, int(s)) for k, s in cur.fetchall()}

    # -- reading ------------------------------------------------------------
    def done_tasks(self, dataset: str, evaluation: str, context: str) -> set[tuple[str, str]]:
        """``{(pipeline_key, task)}`` already stored for this dataset and protocol."""
        cur = self._conn.execute(
            "SELECT DISTINCT pipeline_key, task FROM results WHERE dataset=? AND evaluation=? AND context=?",
            (dataset, evaluation, context),
        )
        return set(cur.fetchall())

    def to_frame(self, **where: object) -> pd.DataFrame:
        """All rows (optionally filtered by equality on columns) as a DataFrame."""
        bad = set(where) - set(RESULT_COLUMNS)
        if bad:
            raise InvalidInputError(f"unknown result column(s) {sorted(bad)}")
        clause = " AND ".join(f"{k}=?" for k in where)
        sql = "SELECT * FROM results" + (f" WHERE {clause}" if clause else "")
        sql += " ORDER BY dataset, evaluation, pipeline, subject, session, fold"
        df = pd.read_sql_query(sql, self._conn, params=tuple(where.values()))
        return df

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write every row to a CSV file (atomically) and return its path."""
        return _atomic_write(Path(path), lambda p: self.to_frame().to_csv(p, index=False))

    def export_parquet(self, path: str | os.PathLike) -> Path:
        """Write every row to a Parquet file (atomically) and return its path."""
        return _atomic_write(Path(path), lambda p: self.to_frame().to_parquet(p, index=False))

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path) if self.path else ':memory:'}, rows={len(self)})"


def _atomic_write(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)
    return path
