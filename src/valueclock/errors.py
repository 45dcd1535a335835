"""Errors that valueclock reports to people as one clear line."""

from __future__ import annotations


class ValueclockError(Exception):
    """Base class of the errors the command line prints as one line (exit status 2)."""


class InputError(ValueclockError):
    """An input cannot be used: a missing file, an unreadable format, a missing column.

    The message names the file, and the row and column where there is one.
    """

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        self.path, self.row, self.column = path, row, column
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class UsageError(ValueclockError):
    """An option or argument given on the command line cannot be used."""
