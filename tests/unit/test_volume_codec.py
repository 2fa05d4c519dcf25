"""A volume job and a rendered volume survive the trip through a broker as JSON: every field
comes back equal (names with any characters, dates, enums, bytes), nothing but JSON is in the
message, and a malformed or foreign-format message is refused with one error."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reminders.adapters.printing.volume_codec import (
    FORMAT,
    MalformedMessageError,
    decode_job,
    decode_rendered,
    encode_job,
    encode_rendered,
)
from reminders.config import Municipality, Sender
from reminders.domain.letters import ContactBlock, Letterhead, LetterSpec, Logo, PrintedLetter
from reminders.domain.model import DocumentKind, Language, LetterLanguageRule
from reminders.domain.volume_job import LetterToPrint, RenderedVolume, VolumeJob

texts = st.text(min_size=1, max_size=30)  # any code point: Łukasiewicz, Zoë, emoji, NUL
maybe_texts = st.none() | texts
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
languages = st.lists(st.sampled_from(Language), min_size=1, max_size=2, unique=True).map(tuple)

senders = st.builds(
    Sender,
    department=texts, street=texts, house_number=texts, postal_code=texts, locality=texts,
    phone=maybe_texts, email=maybe_texts, appointment_url=maybe_texts,
    appointment_qr=st.booleans(),
)  # fmt: skip
logos = st.builds(
    Logo, file_name=texts, data=st.binary(max_size=200), kind=st.sampled_from(["svg", "png"]),
    height_mm=st.floats(min_value=10, max_value=30),
)  # fmt: skip
contact_blocks = st.builds(
    ContactBlock, lines=st.lists(texts, min_size=1, max_size=4).map(tuple), title=maybe_texts,
    language=st.none() | st.sampled_from(Language),
)  # fmt: skip
letterheads = st.builds(
    Letterhead, logo=st.none() | logos,
    contacts=st.lists(contact_blocks, max_size=3).map(tuple),
)  # fmt: skip
municipalities = st.builds(
    Municipality,
    nis_code=st.from_regex(r"[1-9]\d{4}", fullmatch=True),
    name=texts,
    languages=languages,
    letter_language=st.sampled_from(LetterLanguageRule),
    sender=senders,
    letterhead=letterheads,
)
specs = st.builds(
    LetterSpec,
    reference=texts, municipality_nis=texts, document_kind=st.sampled_from(DocumentKind),
    stage=texts, stage_due_on=days, is_final_stage=st.booleans(), expires_on=days,
    letter_date=days, languages=languages, given_names=texts, family_name=texts,
    to_parents=st.booleans(), address_lines=st.lists(texts, max_size=6).map(tuple),
)  # fmt: skip
ids = st.integers(min_value=1, max_value=2**62)
letters = st.builds(
    LetterToPrint,
    spec=specs, decision_id=ids, document_number=texts, postal_code=texts, templates=texts,
    template_sha256=texts,
)  # fmt: skip
jobs = st.builds(
    VolumeJob,
    run_id=ids, as_of=days, municipality=municipalities, language=maybe_texts,
    sequence=st.integers(min_value=1, max_value=9999), print_options=texts,
    letters=st.lists(letters, max_size=4).map(tuple), file_stem=maybe_texts,
)  # fmt: skip
printed = st.builds(
    PrintedLetter,
    decision_id=ids, reference=texts, document_kind=texts, document_number=texts, stage=texts,
    language=texts, postal_code=texts, first_page=ids, page_count=ids, templates=texts,
    template_sha256=texts, address_sha256=texts,
)  # fmt: skip
volumes = st.builds(
    RenderedVolume,
    file_name=texts, sha256=texts, pages=ids, letters=st.lists(printed, max_size=4).map(tuple),
    pdf=st.binary(max_size=300), manifest_csv=st.binary(max_size=100),
    manifest_json=st.binary(max_size=100),
)  # fmt: skip


def through_json(message: dict[str, Any]) -> Any:
    """What a worker takes from the queue: the message as JSON text and back, no default=."""
    return json.loads(json.dumps(message))


@settings(max_examples=150)
@given(jobs)
def test_a_volume_job_comes_back_equal(job: VolumeJob) -> None:
    decoded = decode_job(through_json(encode_job(job)))
    assert decoded == job
    assert isinstance(decoded.municipality, Municipality)  # the config's own type, as a run has


@settings(max_examples=150)
@given(volumes)
def test_a_rendered_volume_comes_back_equal(volume: RenderedVolume) -> None:
    assert decode_rendered(through_json(encode_rendered(volume))) == volume


def example_job() -> VolumeJob:
    gent = Municipality(
        "44021", "Gent", (Language.NL,), LetterLanguageRule.MUNICIPALITY,
        Sender("Dienst Burgerzaken", "Botermarkt", "1", "9000", "Gent"),
    )  # fmt: skip
    spec = LetterSpec(
        reference="44021-000001-000001", municipality_nis="44021",
        document_kind=DocumentKind.EID, stage="first", stage_due_on=date(2027, 3, 1),
        is_final_stage=False, expires_on=date(2027, 6, 1), letter_date=date(2027, 3, 1),
        languages=(Language.NL,), given_names="Jan", family_name="Peeters", to_parents=False,
        address_lines=("Jan Peeters", "Kerkstraat 12", "9000 GENT"),
    )  # fmt: skip
    letter = LetterToPrint(spec, 7, "592123456789", "9000", "eid/first.nl.txt.j2", "ab" * 32)
    return VolumeJob(1, date(2027, 3, 1), gent, None, 1, "(False, None)", (letter,))


def test_the_message_is_plain_json_with_dates_enums_and_a_format() -> None:
    message = encode_job(example_job())
    assert json.loads(json.dumps(message, allow_nan=False)) == message
    assert message["format"] == FORMAT
    assert message["as_of"] == "2027-03-01"
    assert message["municipality"]["languages"] == ["nl"]
    assert message["municipality"]["letter_language"] == "municipality"
    assert message["letters"][0]["spec"]["document_kind"] == "eid"
    rendered = encode_rendered(
        RenderedVolume("volume-001.pdf", "00" * 32, 3, (), b"%PDF-\x00\xff", b"", b"{}")
    )
    assert rendered["pdf"] == "JVBERi0A/w=="  # base64


def broken(mutate: str) -> Any:
    message = through_json(encode_job(example_job()))
    letter = message["letters"][0]
    if mutate == "format":
        message["format"] = FORMAT + 1
    elif mutate == "missing":
        del letter["spec"]["family_name"]
    elif mutate == "type":
        letter["decision_id"] = "7"
    elif mutate == "bool":
        letter["spec"]["to_parents"] = 0
    elif mutate == "enum":
        letter["spec"]["document_kind"] = "library_card"
    elif mutate == "date":
        message["as_of"] = "01/03/2027"
    elif mutate == "not-an-object":
        message = [message]
    return message


@pytest.mark.parametrize(
    "mutate", ["format", "missing", "type", "bool", "enum", "date", "not-an-object"]
)
def test_a_malformed_job_is_refused_with_one_error(mutate: str) -> None:
    with pytest.raises(MalformedMessageError, match="a malformed volume job message") as caught:
        decode_job(broken(mutate))
    assert caught.value.exit_code == 1


def test_a_rendered_volume_with_bad_base64_or_short_rows_is_refused() -> None:
    volume = RenderedVolume("volume-001.pdf", "00" * 32, 1, (), b"%PDF-", b"", b"")
    good = through_json(encode_rendered(volume))
    with pytest.raises(MalformedMessageError, match="rendered volume"):
        decode_rendered({**good, "pdf": "not base64!"})
    with pytest.raises(MalformedMessageError, match="rendered volume"):
        decode_rendered({**good, "letters": [[1, "ref"]]})
    job = example_job()
    assert decode_job(through_json(encode_job(replace(job, language="nl")))).language == "nl"
