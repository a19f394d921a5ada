"""The Paperboy query language: one syntax for subscriptions and /search.

    diffusion language          both words (AND is implicit)
    "masked diffusion"          a phrase: adjacent words in order
    llm OR slm                  either; a comma separates whole alternatives (lowest precedence)
    -survey, NOT survey         exclusion (also -"a phrase", -(a group))
    title: abstract: author: cat:   fields, for a word, "phrase" or (group); cat:cs.* is a prefix
    quantiz*                    prefix (at least 3 letters)

Matching is case-insensitive on whole tokens (`RL` is not in `URL`), `GPT-4` must equal a token
(`GPT-4o` is another one) while `GPT` matches inside `GPT-4o`, and plurals fold (`model`/`models`).
"""

from bot.query.errors import MAX_QUERY_LENGTH, QueryError
from bot.query.evaluate import Match, MatchedTerm
from bot.query.query import Query, parse
from bot.query.text import Document, paper_document

__all__ = [
    "MAX_QUERY_LENGTH",
    "Document",
    "Match",
    "MatchedTerm",
    "Query",
    "QueryError",
    "paper_document",
    "parse",
]
