"""National register numbers (rijksregisternummer / numéro de registre national /
Nationalregisternummer) and BIS numbers (BIS-nummer / numéro BIS), domain.md §3.

Check digits are python-stdnum's job; this module only picks the right stdnum module, turns its
exceptions into reasons a clerk understands, and masks numbers for anything a human reads.

>>> validated_national_number("85.07.30-033.28")
'85073003328'
>>> masked_national_number("85073003328")
'**.**.**-***.28'
"""

from __future__ import annotations

from datetime import date

from stdnum.be import bis, nn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from reminders.domain.stdnum_fastpath import birth_dates, checks

_PUNCTUATION = str.maketrans("", "", " .-/")
# stdnum's checks without its cleaning of the value, which is compact here already.
_CHECK_NN, _CHECK_BIS = checks()
_BIRTH_DATE = birth_dates()


class InvalidNationalNumberError(ValueError):
    """The value is not a valid national register or BIS number; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compact_national_number(value: str) -> str:
    """The number without the punctuation registers and people add (``85.07.30-033.28``)."""
    return value.translate(_PUNCTUATION)


def is_bis_number(compact: str) -> bool:
    """True when the month field says BIS: +20 (sex unknown) or +40 (sex known)."""
    month = int(compact[2:4])
    return 20 <= month <= 32 or 40 <= month <= 52


def validated_national_number(value: str) -> str:
    """The compact number when its structure and check digits are valid, else raise.

    We dispatch on the month field ourselves instead of calling ``stdnum.be.ssn``: ssn tries
    BIS first and pays for a raised exception on every ordinary number, which doubles the
    cost of importing a registry of a million persons. For the same reason the checks skip
    stdnum's own compacting (domain/stdnum_fastpath.py).
    """
    compact = compact_national_number(value)
    if len(compact) != 11:
        raise InvalidNationalNumberError(f"expected 11 digits, got {len(compact)} characters")
    if not compact.isdigit() or not compact.isascii():
        raise InvalidNationalNumberError("expected digits only (punctuation . - allowed)")
    try:
        if is_bis_number(compact):
            _CHECK_BIS(compact)
        else:
            _CHECK_NN(compact)
    except InvalidChecksum as err:
        raise InvalidNationalNumberError("invalid check digits") from err
    except InvalidComponent as err:
        raise InvalidNationalNumberError("the birth date part is not a valid date") from err
    except InvalidLength as err:
        raise InvalidNationalNumberError("expected 11 digits") from err
    except ValidationError as err:
        raise InvalidNationalNumberError("not a valid national register or BIS number") from err
    return compact


def masked_national_number(value: str) -> str:
    """Only the check digits, for lists people read (domain.md §6.3): ``**.**.**-***.28``.

    The birth date is a strong quasi-identifier, so it is masked too. Values too short to
    have check digits are masked entirely.
    """
    compact = compact_national_number(value)
    check = compact[-2:] if len(compact) >= 11 and compact[-2:].isdigit() else "**"
    return f"**.**.**-***.{check}"


def birth_date(compact: str) -> date | None:
    """The birth date a valid number encodes, or None when it has 00 parts or is no real day
    (domain.md §3.2); stdnum guesses the century from its check digits."""
    try:
        if len(compact) == 11 and compact.isdigit() and compact.isascii():
            return _BIRTH_DATE(compact)  # without stdnum's compacting: it is compact
        born: date | None = (bis if is_bis_number(compact) else nn).get_birth_date(compact)
    except (ValidationError, ValueError):
        return None
    return born


def formatted_national_number(compact: str) -> str:
    """The number as people write it, ``85.07.30-033.28``: only where a role may see it."""
    if len(compact) != 11:
        return compact
    return f"{compact[0:2]}.{compact[2:4]}.{compact[4:6]}-{compact[6:9]}.{compact[9:11]}"
