"""A letter's reference: what is printed on it (as text, and in its 2D code) and logged.

A run's letters are numbered per municipality and run: ``<NIS>-<run>-<n>``, e.g.
``44021-000012-000003``. A letter printed again gets a visible suffix, ``-R1``, ``-R2``, ...:
the same letter, told apart from the original on the envelope bpost brings back.

>>> reprint_reference("44021-000012-000003", 2)
'44021-000012-000003-R2'
>>> parsed_reference("44021-000012-000003-R2")
LetterReference(original='44021-000012-000003', reprint=2)
>>> parsed_reference("44021-000012-000003").municipality_nis
'44021'
>>> parsed_reference("not a reference") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_REFERENCE = re.compile(r"^(\d{5})-(\d{6})-(\d{6})(?:-R([1-9]\d{0,3}))?$")


def run_reference(municipality_nis: str, run_id: int, number: int) -> str:
    """The reference of a run's n-th letter of a municipality."""
    return f"{municipality_nis}-{run_id:06d}-{number:06d}"


def reprint_reference(original: str, reprint: int) -> str:
    """The reference of the n-th reprint of a letter."""
    return f"{original}-R{reprint}"


@dataclass(frozen=True, slots=True)
class LetterReference:
    """A reference read back (typed in, or scanned from a returned envelope)."""

    original: str  # the letter's own reference
    reprint: int  # 0 for the letter itself, n for its n-th reprint

    @property
    def municipality_nis(self) -> str:
        return self.original[:5]

    @property
    def run_id(self) -> int:
        return int(self.original[6:12])

    @property
    def text(self) -> str:
        return reprint_reference(self.original, self.reprint) if self.reprint else self.original


def parsed_reference(text: str) -> LetterReference | None:
    """``text`` (spaces around it and lower-case ``r`` allowed) as a reference, or None."""
    match = _REFERENCE.match(text.strip().upper())
    if match is None:
        return None
    original = f"{match[1]}-{match[2]}-{match[3]}"
    return LetterReference(original, int(match[4]) if match[4] else 0)
