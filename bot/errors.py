"""Errors whose message is meant for the person who ran a command."""

from __future__ import annotations


class UserError(Exception):
    """A refusal or bad input, explained in one line that is safe to show the user.

    Cogs (and the core, which never imports discord) raise it; the command tree's error handler
    shows `str(error)` ephemerally and logs nothing beyond a debug line, because it is not a bug.
    """
