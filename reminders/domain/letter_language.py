"""Which language a citizen's letter is written in (interfaces.md §2, domain.md §5.2).

The coordinated laws of 18 July 1966 on the use of languages in administrative matters decide,
not the citizen's stored preference alone: in a unilingual area (and in the Flemish facility
municipalities, circular BA-97/22 "Peeters") the area's language always wins; in Brussels the
citizen's language is used, and an unknown language gives one letter in both.

>>> letter_languages(LetterLanguageRule.CITIZEN_OR_BILINGUAL, (Language.FR, Language.NL), None)
(<Language.FR: 'fr'>, <Language.NL: 'nl'>)
>>> language_label((Language.FR, Language.NL))
'fr+nl'
>>> parsed_language_label("fr+nl") == (Language.FR, Language.NL)
True
"""

from __future__ import annotations

from collections.abc import Sequence

from reminders.domain.model import Language, LetterLanguageRule


def letter_languages(
    rule: LetterLanguageRule, official: Sequence[Language], citizen: Language | None
) -> tuple[Language, ...]:
    """The letter's language(s), first language first; two only for a bilingual letter."""
    default = official[0]
    if rule is LetterLanguageRule.MUNICIPALITY:
        return (default,)
    if citizen is not None and citizen in official:
        return (citizen,)
    if rule is LetterLanguageRule.CITIZEN_OR_BILINGUAL and citizen is None:
        return tuple(official)  # Brussels, language unknown: one letter in both (§5.2)
    return (default,)  # a language the municipality may not write in: its own language


def language_label(languages: Sequence[Language]) -> str:
    """``nl``, or ``fr+nl`` for a bilingual letter: the form the dispatch log exports."""
    return "+".join(language.value for language in languages)


def parsed_language_label(label: str) -> tuple[Language, ...]:
    """The languages a label such as ``fr+nl`` stands for, first language first."""
    return tuple(Language(code) for code in label.split("+")) if label else ()


def possible_letter_languages(
    rule: LetterLanguageRule, official: Sequence[Language]
) -> tuple[Language, ...]:
    """Every language a municipality's letters can be written in under ``rule``, whatever
    the citizen's language: the templates it needs."""
    citizens: tuple[Language | None, ...] = (None, *Language)
    possible = (lang for c in citizens for lang in letter_languages(rule, official, c))
    return tuple(dict.fromkeys(possible))
