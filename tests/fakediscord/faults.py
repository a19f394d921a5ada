"""Fault injection: make the next N matching REST requests fail, stall, or lose their answer."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any, Literal

# How a processed request's answer is lost: the connection is cut, it is never answered (until
# the server closes), or it is answered with this status instead of the real one.
LostAnswer = Literal["drop", "hang"] | int

# Bodies Discord (or its edge) answers with for each injected status.
_BODIES: dict[int, dict[str, Any]] = {
    400: {"message": "400: Bad Request", "code": 0},
    401: {"message": "401: Unauthorized", "code": 0},
    403: {"message": "Missing Permissions", "code": 50013},
    404: {"message": "Unknown Channel", "code": 10003},
    500: {"message": "500: Internal Server Error", "code": 0},
    503: {"message": "503: Service Unavailable", "code": 0},
}


def pattern_to_regex(pattern: str) -> re.Pattern[str]:
    """Turn "/channels/{id}/messages" (or with "*") into a regex matching whole paths."""
    parts = re.split(r"(\{[^}]*\}|\*)", pattern)
    out = []
    for part in parts:
        if part == "*":
            out.append(".*")
        elif part.startswith("{") and part.endswith("}"):
            out.append("[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "/?$")


@dataclass
class Fault:
    """One rule: `times` matching requests get `status` (None = only the delay).

    With `lose` set the request is processed first (the message is created) and only then is
    its answer lost; `skip` lets that many matching requests through before the rule applies.
    """

    method: str
    regex: re.Pattern[str]
    status: int | None
    times: int
    body: Any = None
    delay: float = 0.0
    retry_after: float = 0.05
    lose: LostAnswer | None = None
    skip: int = 0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """True if this rule applies to the request and still has uses left."""
        return self.times > 0 and self.method in ("*", method) and bool(self.regex.match(path))

    def default_body(self, status: int | None = None) -> Any:
        """The body to send when none was given (for `status`, or this rule's status)."""
        status = self.status if status is None else status
        if self.body is not None:
            return self.body
        if status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": False,
            }
        if status == 502:
            return "<html><head><title>502 Bad Gateway</title></head></html>"
        return _BODIES.get(status or 500, {"message": f"{status}", "code": 0})


class Faults:
    """The active fault rules, consumed in the order they were added."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []
        # Set when the server closes: requests held by a "hang" rule then drop their connection.
        self.released = asyncio.Event()

    def add(
        self,
        method: str,
        pattern: str,
        *,
        status: int | None = 500,
        times: int = 1,
        body: Any = None,
        delay: float = 0.0,
        retry_after: float = 0.05,
        lose: LostAnswer | None = None,
        skip: int = 0,
    ) -> Fault:
        """Register a rule; returns it so a test can read `hits` afterwards."""
        if lose is not None and not isinstance(lose, int) and lose not in ("drop", "hang"):
            raise ValueError(f"lose must be 'drop', 'hang' or a status code, not {lose!r}")
        fault = Fault(
            method.upper(),
            pattern_to_regex(pattern),
            status,
            times,
            body,
            delay,
            retry_after,
            lose,
            skip,
        )
        self.rules.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume and return the first rule matching this request, if any."""
        for fault in self.rules:
            if fault.matches(method, path):
                if fault.skip > 0:  # let this one through untouched (other rules may apply)
                    fault.skip -= 1
                    continue
                fault.times -= 1
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()
