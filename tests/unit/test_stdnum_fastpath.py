"""The fast national-number checks agree with python-stdnum's public `validate`, number for
number, on the installed release (domain/stdnum_fastpath.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from importlib.metadata import version

from stdnum.be import bis, nn

from reminders.domain.national_number import is_bis_number
from reminders.domain.stdnum_fastpath import TESTED_RELEASES, birth_dates, checks
from reminders.synthetic.registry import synthetic_national_number


def _outcome(check: Callable[[str], object], compact: str) -> str:
    """What a check says of a number: 'valid', or the exception it raised and its message."""
    try:
        check(compact)
    except ValueError as err:
        return f"{type(err).__name__}: {err}"
    return "valid"


def _numbers() -> list[str]:
    """Valid numbers of every century and BIS kind, the same with a wrong check digit, the
    fictitious and impossible dates stdnum knows of, and random digits (seeded)."""
    rng = random.Random(24)
    numbers = ["00000000000", "00000100128", "00200100157", "00400100186", "99123199999"]
    numbers += ["85133003370", "85003003328", "85073203328", "85023003328", "16022900193"]
    for _ in range(3_000):
        born = date(1905, 1, 1) + timedelta(days=rng.randrange(44_000))
        valid = synthetic_national_number(rng, born, male=rng.random() < 0.5,
                                          bis=rng.random() < 0.2)  # fmt: skip
        numbers.append(valid)
        numbers.append(valid[:9] + f"{(int(valid[9:]) + rng.randrange(1, 97)) % 100:02d}")
        month = rng.choice([0, 13, 19, 20, 32, 33, 40, 52, 53, 99])
        numbers.append(valid[:2] + f"{month:02d}" + valid[4:])
        numbers.append(f"{rng.randrange(10**11):011d}")
    return numbers


def test_the_fast_checks_say_what_stdnum_says_of_every_number() -> None:
    """Valid or not, and for which reason, the same as the public path on this release."""
    fast_nn, fast_bis = checks(sorted(TESTED_RELEASES)[-1])
    assert (fast_nn, fast_bis) != (nn.validate, bis.validate)
    differing = []
    for compact in _numbers():
        fast, public = (
            (fast_bis, bis.validate) if is_bis_number(compact) else (fast_nn, nn.validate)
        )
        if _outcome(fast, compact) != _outcome(public, compact):
            differing.append((compact, _outcome(fast, compact), _outcome(public, compact)))
    assert differing == []


def test_the_fast_birth_date_is_stdnums_of_every_number() -> None:
    """The same date, None or exception as stdnum's public get_birth_date, number for number
    (BIS numbers through the module stdnum has for them)."""
    fast = birth_dates(sorted(TESTED_RELEASES)[-1])
    assert fast is not nn.get_birth_date
    differing = []
    for compact in _numbers():
        public = bis.get_birth_date if is_bis_number(compact) else nn.get_birth_date
        if _outcome(fast, compact) != _outcome(public, compact) or (
            _outcome(fast, compact) == "valid" and fast(compact) != public(compact)
        ):
            differing.append(compact)
    assert differing == []


def test_an_untested_stdnum_release_gets_the_public_validate() -> None:
    """On a release the fast path was not checked against, stdnum's own validate is used."""
    assert checks("0.1") == (nn.validate, bis.validate)
    assert birth_dates("0.1") is nn.get_birth_date


def test_the_installed_stdnum_release_was_checked() -> None:
    """An upgrade of python-stdnum fails here until the comparison above passed on it and the
    release was added to TESTED_RELEASES."""
    assert version("python-stdnum") in TESTED_RELEASES
