"""The database as data: every model's rows written out inside one consistent read snapshot,
and read back in, replacing what the database holds, in one transaction.

Each model becomes one JSON-lines file: a header naming the model and its columns, then one
JSON array per row, streamed in primary-key order so a table of millions of log points never
sits in memory whole. Values are written as JSON can hold them (dates and times ISO 8601,
decimals and UUIDs as text, binary as base64) and read back with each field's own to_python.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps as installed_apps
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import IntegrityError, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils.duration import duration_iso_string

log = logging.getLogger(__name__)

STREAM_CHUNK_ROWS = 2000
INSERT_BATCH_ROWS = 1000
# Sessions are not data: a backup holding them would hand out logins, and a restore keeps the
# sessions of this site (Django logs out any whose user or password no longer matches).
LEFT_OUT = frozenset({"sessions.session"})
# Field types whose values JSON holds as they are: no conversion on the way back in.
JSON_NATIVE = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
        "FloatField",
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "BooleanField",
        "JSONField",
    }
)


class DatabaseRefused(ValueError):
    """The archive's data cannot go into this database; the message says why, in one line."""


@dataclass
class DumpedTable:
    label: str  # "beers.logpoint"
    path: Path
    rows: int
    size: int
    sha256: str


def backed_up_models(registry=installed_apps) -> list:
    """Every model with a table of its own (many-to-many tables included), by label."""
    models = [
        model
        for model in registry.get_models(include_auto_created=True)
        if model._meta.managed
        and not model._meta.proxy
        and not model._meta.swapped
        and model._meta.label_lower not in LEFT_OUT
    ]
    return sorted(models, key=lambda model: model._meta.label_lower)


def table_file_name(label: str) -> str:
    return f"{label}.jsonl"


def _plain(value):
    """A value as JSON holds it."""
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot write a {type(value).__name__} value into a backup")


class _HashingWriter:
    def __init__(self, file) -> None:
        self.file = file
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.hash.update(data)
        self.size += len(data)
        self.file.write(data)


@contextmanager
def read_snapshot(alias: str = "default") -> Iterator[None]:
    """Everything read inside sees the database as it was at one moment, while writers go on:
    a SQLite read transaction (WAL), PostgreSQL REPEATABLE READ READ ONLY. A caller already
    inside a transaction reads in that one."""
    connection = connections[alias]
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
        return
    if connection.vendor != "sqlite":
        raise DatabaseRefused(f"backups support SQLite and PostgreSQL, not {connection.vendor}")
    # Django's own transactions on SQLite begin IMMEDIATE (taking the write lock); a backup
    # must not stop the controllers' writes, so it opens a plain deferred read transaction.
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")


def applied_migrations(alias: str = "default") -> dict[str, list[str]]:
    recorder = MigrationRecorder(connections[alias])
    applied: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def dump_table(model, folder: Path, alias: str = "default") -> DumpedTable:
    """One model's rows into `folder`/<label>.jsonl, streamed in primary-key order."""
    label = model._meta.label_lower
    fields = model._meta.concrete_fields
    path = folder / table_file_name(label)
    rows = 0
    with open(path, "wb") as file:
        writer = _HashingWriter(file)
        header = {"model": label, "columns": [field.attname for field in fields]}
        writer.write(json.dumps(header) + "\n")
        query = (
            model._base_manager.using(alias)
            .order_by("pk")
            .values_list(*(field.attname for field in fields))
        )
        for row in query.iterator(chunk_size=STREAM_CHUNK_ROWS):
            writer.write(json.dumps([_plain(v) for v in row], separators=(",", ":")) + "\n")
            rows += 1
    return DumpedTable(label, path, rows, writer.size, writer.hash.hexdigest())


def dump_database(folder: Path, alias: str = "default") -> tuple[dict[str, list[str]], list]:
    """(applied migrations, [DumpedTable per model]), all read in one snapshot."""
    folder.mkdir(parents=True, exist_ok=True)
    with read_snapshot(alias):
        migrations = applied_migrations(alias)
        tables = [dump_table(model, folder, alias) for model in backed_up_models()]
    return migrations, tables


def _converter(field):
    kind = field.get_internal_type()
    if field.is_relation:
        kind = field.target_field.get_internal_type()
    return None if kind in JSON_NATIVE else field.to_python


def read_table(path: Path, model) -> tuple[list, Iterator[list]]:
    """(fields in the file's column order, rows converted to Python values) of one file
    written by dump_table, for `model` (the current one, or a historical one)."""
    label = model._meta.label_lower
    file = open(path, encoding="utf-8")  # noqa: SIM115 - closed by the generator below
    try:
        header = json.loads(file.readline())
        columns = header["columns"]
        if header.get("model") != label or not isinstance(columns, list):
            raise ValueError("a header naming another table")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        file.close()
        raise DatabaseRefused(f"the backup's table {label} does not start as expected") from error
    by_name = {field.attname: field for field in model._meta.concrete_fields}
    unknown = [column for column in columns if column not in by_name]
    if unknown:
        file.close()
        raise DatabaseRefused(
            f"the backup's table {label} has columns this version does not know: "
            + ", ".join(unknown)
        )
    fields = [by_name[column] for column in columns]
    converters = [_converter(field) for field in fields]

    def rows() -> Iterator[list]:
        with file:
            for number, line in enumerate(file, start=2):
                try:
                    values = json.loads(line)
                    if len(values) != len(fields):
                        raise ValueError(f"{len(values)} values for {len(fields)} columns")
                    yield [
                        value if convert is None or value is None else convert(value)
                        for convert, value in zip(converters, values, strict=True)
                    ]
                except (ValueError, TypeError, ValidationError) as error:
                    raise DatabaseRefused(
                        f"the backup's table {label}, line {number}, cannot be read: {error}"
                    ) from error

    return fields, rows()


def _batches(rows: Iterable[list], size: int) -> Iterator[list[list]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(model, fields: list, rows: Iterable[list], alias: str = "default") -> int:
    """Insert rows as they are (no save(), no auto_now): a restore puts back what was."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
    count = 0
    with connection.cursor() as cursor:
        for batch in _batches(rows, INSERT_BATCH_ROWS):
            cursor.executemany(
                sql,
                [
                    [
                        field.get_db_prep_save(value, connection)
                        for field, value in zip(fields, row, strict=True)
                    ]
                    for row in batch
                ],
            )
            count += len(batch)
    return count


def empty_tables(models: list, alias: str = "default") -> None:
    connection = connections[alias]
    tables = [model._meta.db_table for model in models]
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:  # TRUNCATE refuses while deferred checks of earlier writes are pending
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in connection.ops.sql_flush(no_style(), tables, allow_cascade=False):
            cursor.execute(statement)
        if postgresql:  # rows go back in any order: their references are checked at the end
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def reset_sequences(models: list, alias: str = "default") -> None:
    """PostgreSQL: each id sequence continues after the highest id restored."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def load_tables(folder: Path, counts: dict[str, int], registry, alias: str = "default") -> None:
    """Replace the contents of every model of `registry` with the files in `folder` (to be
    called inside a transaction): emptied, filled, checked, sequences reset."""
    models = backed_up_models(registry)
    known = {model._meta.label_lower for model in models}
    unknown = sorted(set(counts) - known)
    if unknown:
        raise DatabaseRefused(f"the backup holds tables this version does not have: {unknown}")
    empty_tables(models, alias)
    for model in models:
        label = model._meta.label_lower
        if label not in counts:
            continue  # a table newer than the backup: stays empty
        fields, rows = read_table(folder / table_file_name(label), model)
        loaded = insert_rows(model, fields, rows, alias)
        if loaded != counts[label]:
            raise DatabaseRefused(
                f"the backup's table {label} holds {loaded} rows, its manifest says {counts[label]}"
            )
    try:
        connections[alias].check_constraints(table_names=[m._meta.db_table for m in models])
    except IntegrityError as error:
        raise DatabaseRefused(f"the backup's rows do not fit together: {error}") from error
    reset_sequences(models, alias)
