"""Words for codes and numbers as printed on the documents (issue 23)."""

from __future__ import annotations

from reminders.entrypoints.console import i18n
from reminders.entrypoints.console.labels import document_number, labelled, word


def test_an_identity_card_number_in_its_three_groups() -> None:
    assert document_number("eid", "591123456789") == "591-1234567-89"
    assert document_number("kids_id", "591123456789") == "591-1234567-89"
    assert document_number("passport", "EH123456") == "EH123456"
    assert document_number("eid", "E01") == "E01"  # the tests' synthetic numbers stay


def test_a_code_as_a_word_with_the_code_in_its_tooltip() -> None:
    i18n.use("fr")
    try:
        assert word("reason", "struck_off") == "radié d'office"
        assert (
            str(labelled("kind", "eid"))
            == '<span class="code" title="eid">carte d&#39;identité</span>'
        )
        assert word("stage", "paper-licences-2033") == "paper-licences-2033"  # a campaign's id
    finally:
        i18n.use("en")
