"""python-stdnum's check of a national or BIS number, and its birth date, without its string
cleaning, in one place.

`stdnum.be.nn.validate` and `stdnum.be.bis.validate` first compact the value (`stdnum.util.clean`,
a generator over every character, then `isdigits`): about half of each call, and the import
checks a million numbers a registry. `validated_national_number` has compacted the value and
checked it is 11 ASCII digits already, so here the checks that follow in `validate` are made
directly: the digits not all zero, then `nn._get_birth_date_parts` (the check digits, with the
century, and the birth date), then the month's range, raising the very exceptions `validate`
raises, in the same order.

`_get_birth_date_parts` is private to stdnum, so this was written against python-stdnum 2.2
(`TESTED_RELEASES`) and is used only on a release listed there; on any other, the public
`validate` is called. tests/unit/test_stdnum_fastpath.py compares both ways on the installed
release, for every kind of number: upgrading stdnum is a run of that test, then adding the
release here.

The same holds for `birth_dates`: each printed letter shows its holder's birth date, decoded
from the stored (compact, validated) number: 2.7 us instead of `nn.get_birth_date`'s 5.2 us
(timeit, under load), most of the difference its compacting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib.metadata import version

from stdnum.be import bis, nn
from stdnum.exceptions import InvalidComponent, InvalidFormat

# The releases tests/unit/test_stdnum_fastpath.py passed on; add one only after it did.
TESTED_RELEASES = frozenset({"2.2"})


def _fast_nn(compact: str) -> object:
    if int(compact) <= 0:
        raise InvalidFormat()
    nn._get_birth_date_parts(compact)
    if not 0 <= int(compact[2:4]) <= 12:
        raise InvalidComponent("Month must be in 1..12")
    return compact


def _fast_bis(compact: str) -> object:
    if int(compact) <= 0:
        raise InvalidFormat()
    nn._get_birth_date_parts(compact)
    month = int(compact[2:4])
    if not 20 <= month <= 32 and not 40 <= month <= 52:
        raise InvalidComponent("Month must be in 20..32 or 40..52 range")
    return compact


Check = Callable[[str], object]


def checks(release: str | None = None) -> tuple[Check, Check]:
    """(national number, BIS number) checks for a compact value of 11 ASCII digits: the fast
    ones on a stdnum release (the installed one unless given) they were tested on, else
    stdnum's public `validate`."""
    if (release or version("python-stdnum")) in TESTED_RELEASES:
        return _fast_nn, _fast_bis
    return nn.validate, bis.validate


def _fast_birth_date(compact: str) -> date | None:
    year, month, day = nn._get_birth_date_parts(compact)
    if year and month and day:
        return date(year, month, day)
    return None


BirthDate = Callable[[str], "date | None"]


def birth_dates(release: str | None = None) -> BirthDate:
    """The birth date of a compact number of 11 ASCII digits (BIS numbers too: the month's
    +20 and +40 fall away as in stdnum), None when a part is unknown; raises what
    `nn.get_birth_date` raises for an invalid one. The fast way on a tested release, else
    stdnum's public `nn.get_birth_date` (which `bis.get_birth_date` is)."""
    if (release or version("python-stdnum")) in TESTED_RELEASES:
        return _fast_birth_date
    return nn.get_birth_date
