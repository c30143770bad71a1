"""Load and render the schema files for one node or for a cluster.

The files in ``warehouse/schema/`` are the single source of the schema, in two kinds:

* numbered files, ``NNNN_name.sql``: append-only, each applied once, in order; they create,
  alter and drop the stored tables (and fill a new table from the ones it derives from);
* repeatable files, ``views/name.sql``: the current definition of one view or materialized
  view (with the in-memory scratch tables shaped by it), applied after the numbered files
  and again whenever its text changes; every statement in one can run again.

Both are Jinja templates with a handful of helpers, so the same text renders two variants:

================================  =================================  =========================================
helper                            single node (chDB or one server)    cluster (``--cluster NAME``)
================================  =================================  =========================================
``{{ db }}``                      ``vax``                             ``vax``
``{{ on_cluster }}``              (nothing)                           ``ON CLUSTER 'NAME'``
``{{ local('t') }}``              ``vax.t``                           ``vax.t_local`` (the shard's storage)
``{{ table('t') }}``              ``vax.t``                           ``vax.t`` (the Distributed table)
``{{ engine('X', 'a', 'b') }}``   ``X(a, b)``                         ``ReplicatedX('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', a, b)``
``{{ distributed('t', key) }}``   (nothing)                           ``CREATE TABLE vax.t … ENGINE = Distributed('NAME', 'vax', 't_local', key)``
================================  =================================  =========================================

Writes and materialized views use `local`; reads (views, queries) use `table`.
"""

from __future__ import annotations

import graphlib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
VIEWS_DIR = SCHEMA_DIR / "views"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_VIEW_NAME = re.compile(r"^([a-z0-9_]+)\.sql$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REPLICA_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"


class SchemaError(Exception):
    """The schema directory or a schema file is malformed."""


@dataclass(frozen=True)
class SchemaFile:
    name: str
    path: Path
    source: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Migration(SchemaFile):
    """A numbered file, applied once."""

    version: int


@dataclass(frozen=True)
class Repeatable(SchemaFile):
    """The current definition of one view (the file's name), applied whenever it changes."""


def load_migrations(directory: Path = SCHEMA_DIR) -> list[Migration]:
    """The numbered schema files, in order; numbering must be 1, 2, 3, … without gaps."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise SchemaError(f"{path.name}: schema files are named NNNN_snake_case.sql")
        migrations.append(
            Migration(match[2], path, path.read_text(encoding="utf-8"), version=int(match[1]))
        )
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise SchemaError(
                f"schema files must be numbered 1..n without gaps: expected {expected:04d}, "
                f"found {migration.path.name}"
            )
    return migrations


def load_repeatables(directory: Path = VIEWS_DIR) -> list[Repeatable]:
    """The repeatable files, in the order they apply: a file that names another file's view
    comes after it; otherwise by name."""
    files: dict[str, Repeatable] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _VIEW_NAME.match(path.name)
        if not match:
            raise SchemaError(f"views/{path.name}: repeatable files are named snake_case.sql")
        files[match[1]] = Repeatable(match[1], path, path.read_text(encoding="utf-8"))
    order = graphlib.TopologicalSorter(
        {
            name: [other for other in files if other != name and _names(file.source, other)]
            for name, file in files.items()
        }
    )
    try:
        order.prepare()
    except graphlib.CycleError as error:
        raise SchemaError(
            f"repeatable files name each other in a cycle: {error.args[1]}"
        ) from error
    ordered: list[Repeatable] = []
    while order.is_active():
        ready = sorted(order.get_ready())
        ordered.extend(files[name] for name in ready)
        order.done(*ready)
    return ordered


def _names(source: str, name: str) -> bool:
    """Whether the statements of `source` (comments aside) name the object `name`."""
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("--"))
    return re.search(rf"[.']{re.escape(name)}\b", code) is not None


def _check_identifier(kind: str, value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise SchemaError(f"{kind} must be a plain identifier, not {value!r}")
    return value


class Renderer:
    """Renders schema templates for a database, optionally on a cluster."""

    def __init__(self, database: str = "vax", cluster: str = "") -> None:
        self.database = _check_identifier("database", database)
        self.cluster = _check_identifier("cluster", cluster) if cluster else ""
        self._env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 - renders SQL, not HTML
            keep_trailing_newline=True,
        )

    # -- helpers exposed to the templates ---------------------------------------------------
    def local(self, name: str) -> str:
        _check_identifier("table", name)
        return f"{self.database}.{name}_local" if self.cluster else f"{self.database}.{name}"

    def table(self, name: str) -> str:
        return f"{self.database}.{_check_identifier('table', name)}"

    def engine(self, kind: str, *args: str) -> str:
        _check_identifier("engine", kind)
        if self.cluster:
            return f"Replicated{kind}({', '.join([_REPLICA_PATH, *args])})"
        return f"{kind}({', '.join(args)})"

    def distributed(self, name: str, sharding_key: str) -> str:
        if not self.cluster:
            return ""
        _check_identifier("table", name)
        return (
            f"CREATE TABLE IF NOT EXISTS {self.database}.{name} ON CLUSTER '{self.cluster}'\n"
            f"AS {self.database}.{name}_local\n"
            f"ENGINE = Distributed('{self.cluster}', '{self.database}', '{name}_local', "
            f"{sharding_key});\n"
        )

    # -- rendering --------------------------------------------------------------------------
    def render(self, source: str) -> str:
        """The template rendered for this target, comments kept."""
        template = self._env.from_string(source)
        return template.render(
            db=self.database,
            on_cluster=f"ON CLUSTER '{self.cluster}'" if self.cluster else "",
            local=self.local,
            table=self.table,
            engine=self.engine,
            distributed=self.distributed,
        )

    def statements(self, source: str) -> list[str]:
        """The rendered template as executable statements (full-line comments removed)."""
        lines = [
            line for line in self.render(source).splitlines() if not line.lstrip().startswith("--")
        ]
        chunks = re.split(r";[ \t]*(?:\n|$)", "\n".join(lines))
        return [chunk.strip() for chunk in chunks if chunk.strip()]


def render_schema(database: str = "vax", cluster: str = "") -> str:
    """The whole schema as one SQL script, the numbered files then the repeatable ones, in the
    order `migrate` applies them (for review, or applying by hand)."""
    renderer = Renderer(database, cluster)
    parts = []
    for migration in load_migrations():
        parts.append(f"-- ==== {migration.path.name} ====\n{renderer.render(migration.source)}")
    for repeatable in load_repeatables():
        parts.append(
            f"-- ==== views/{repeatable.path.name} ====\n{renderer.render(repeatable.source)}"
        )
    return "\n".join(parts)
