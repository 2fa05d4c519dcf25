"""When a registered address can carry a letter (interfaces.md §1, domain.md §4.1 and §4.3)."""

from __future__ import annotations


def is_usable_address(
    *,
    street: str | None,
    house_number: str | None,
    postal_code: str | None,
    locality: str | None,
    country: str,
) -> bool:
    """Whether bpost can deliver to it: the legal minimum of a street line and a locality line.

    A Belgian address needs street, number, postal code and locality (Royal Decree of 24 April
    2014, art. 34). A foreign one is written the destination's way (postal codes sit in different
    places, some countries have none), so only a street line and a locality are required there.
    """
    if not street or not locality:
        return False
    if country == "BE":
        return bool(house_number and postal_code)
    return True
