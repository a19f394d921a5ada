"""arXiv identifiers: recognise the forms people paste (ids, URLs) and reduce them to one key."""

from __future__ import annotations

import re

# New style (April 2007 on): YYMM.NNNN until 2014, YYMM.NNNNN from 2015.
_NEW = r"(?P<yymm>\d{4})\.(?P<num>\d{4,5})"
# Old style (1991 to March 2007): archive[.CLASS]/YYMMNNN: hep-th/9901001, math.AP/0101001.
_OLD = r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2,}(?:-[a-z]{2,})?)?/(?P<old>\d{7})"
_ID = rf"(?:{_NEW}|{_OLD})(?:v(?P<version>\d+))?"

_BARE = re.compile(rf"(?:arxiv:)?{_ID}", re.IGNORECASE | re.ASCII)
_URL = re.compile(
    r"(?:https?://)?(?:(?:www|export)\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html|format)/|huggingface\.co/papers/|doi\.org/10\.48550/arxiv\.)"
    rf"{_ID}(?:\.pdf)?/?(?:[?#].*)?",
    re.IGNORECASE | re.ASCII,
)
_OAI = re.compile(rf"oai:arxiv\.org:{_ID}", re.IGNORECASE | re.ASCII)
_DOI = re.compile(rf"(?:doi:)?10\.48550/arxiv\.{_ID}", re.IGNORECASE | re.ASCII)
_VERSION = re.compile(r"^(?P<id>.*\d)v(?P<version>\d+)$", re.ASCII)


def normalise_id(text: str) -> str | None:
    """Return the versionless arXiv id in `text` (id, `arXiv:` id, abs/pdf/HF URL), else None."""
    # People paste ids wrapped in <...> to stop Discord embedding the link.
    candidate = text.strip().strip("<>").strip()
    for pattern in (_BARE, _URL, _OAI, _DOI):
        match = pattern.fullmatch(candidate)
        if match:
            return _canonical(match)
    return None


def _canonical(match: re.Match[str]) -> str | None:
    if match.group("yymm"):
        yymm, num = match.group("yymm"), match.group("num")
        month = int(yymm[2:])
        # Four-digit numbers ran to 1412, five-digit ones from 1501: anything else is a typo.
        five_digits = yymm >= "1501"
        if not 1 <= month <= 12 or yymm < "0704" or (len(num) == 5) != five_digits:
            return None
        return f"{yymm}.{num}"
    old = match.group("old")
    if not 1 <= int(old[2:4]) <= 12:
        return None
    # The subject class (the ".AP" in math.AP/0101001) is not part of the identifier: arXiv
    # numbers papers per archive, so dropping it gives one key for both spellings.
    return f"{match.group('archive').lower()}/{old}"


def split_version(arxiv_id: str) -> tuple[str, int | None]:
    """Split `2608.09888v2` into `("2608.09888", 2)`; an id without a version gives None."""
    match = _VERSION.match(arxiv_id.strip())
    if match is None:
        return arxiv_id.strip(), None
    return match.group("id"), int(match.group("version"))
