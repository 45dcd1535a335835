"""Command-line options shared by several commands (in more than one module)."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["AccountsTableOpt", "EngineOpt", "IntoOpt", "TableOpt"]

EngineOpt = Annotated[str | None, typer.Option(
    "--engine", metavar="URL", envvar="VALUECLOCK_ENGINE",
    help="Compute on this engine instead of embedded DuckDB: duckdb:///FILE.db, "
         "postgres://USER:PASSWORD@HOST:PORT/DATABASE or spark://MASTER (spark://local[2]; "
         "?key=value adds Spark settings). EVENTS files are read and handed to it; "
         "--table reads events stored there. See docs/engines.md.", show_default=False)]
TableOpt = Annotated[str | None, typer.Option(
    "--table", metavar="NAME",
    help="Read the canonical events stored in the engine as this table (schema.table "
         "too) instead of EVENTS files.", show_default=False)]
AccountsTableOpt = Annotated[str | None, typer.Option(
    "--accounts-table", metavar="NAME",
    help="The accounts table stored in the engine (instead of --accounts FILE).",
    show_default=False)]
IntoOpt = Annotated[str | None, typer.Option(
    "--into", metavar="TABLE",
    help="Write the rows to this table in the engine (replacing it) instead of printing "
         "them: for results too large to bring back. Needs --engine.",
    show_default=False)]
