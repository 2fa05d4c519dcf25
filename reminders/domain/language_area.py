"""A municipality's official language(s) from its NIS code (domain.md §4.7, §5.1).

The first digit of a NIS (REFNIS) code is the province, the first two the arrondissement: the
Flemish provinces (1, 3, 4, 7) and the arrondissements Halle-Vilvoorde (23) and Leuven (24)
are the Dutch language area; Walloon Brabant (25) and the Walloon provinces (5, 6, 8, 9) the
French one, except the nine municipalities of the German language area (arrondissement
Verviers); Brussels-Capital (21) is bilingual. Facility municipalities keep the language of
their area (domain.md §5.2): the other language is given on request, not by default.

>>> official_languages("44021"), official_languages("21004"), official_languages("63023")
((<Language.NL: 'nl'>,), (<Language.FR: 'fr'>, <Language.NL: 'nl'>), (<Language.DE: 'de'>,))
>>> official_languages("62063"), official_languages("25072"), official_languages("29999")
((<Language.FR: 'fr'>,), (<Language.FR: 'fr'>,), None)
"""

from __future__ import annotations

from reminders.domain.model import Language

# Amel, Büllingen, Bütgenbach, Eupen, Kelmis, Lontzen, Raeren, Sankt Vith, Burg-Reuland.
GERMAN_AREA = frozenset(
    {"63001", "63012", "63013", "63023", "63040", "63048", "63061", "63067", "63087"}
)
_DUTCH_PROVINCES = frozenset("1347")
_FRENCH_PROVINCES = frozenset("5689")


def official_languages(nis_code: str) -> tuple[Language, ...] | None:
    """The municipality's official language(s), first the default; None when the code names
    no known province or arrondissement (then ask)."""
    if nis_code in GERMAN_AREA:
        return (Language.DE,)
    arrondissement, province = nis_code[:2], nis_code[:1]
    if arrondissement == "21":
        return (Language.FR, Language.NL)  # Brussels: French first, as its own letters do
    if province in _DUTCH_PROVINCES or arrondissement in ("23", "24"):
        return (Language.NL,)
    if province in _FRENCH_PROVINCES or arrondissement == "25":
        return (Language.FR,)
    return None
