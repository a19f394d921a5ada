"""The error raised for a query that cannot be parsed, and the length and nesting limits."""

from __future__ import annotations

MAX_QUERY_LENGTH = 200
# parentheses inside parentheses: the parser recurses per level, and no real query needs more
MAX_QUERY_DEPTH = 8


class QueryError(ValueError):
    """A query the user must fix; `str(error)` is one line saying what is wrong and where."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return self.message
