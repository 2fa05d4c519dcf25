"""VolumeJob and RenderedVolume as JSON-safe dicts, the form they travel in through a broker.

JSON rather than pickle: a worker must never unpickle what it takes from a queue (anyone who
can publish to the broker could run code in it). Dates travel as ISO text, enums by value,
bytes in base64, the municipality as its config data (config.Municipality). Each message says
its format; a worker or run of another format refuses it instead of misreading it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from reminders.config import Municipality, Sender
from reminders.domain.letters import (
    ContactBlock,
    Letterhead,
    LetterMunicipality,
    LetterSpec,
    Logo,
    PrintedLetter,
)
from reminders.domain.model import DocumentKind, Language, LetterLanguageRule
from reminders.domain.volume_job import LetterToPrint, RenderedVolume, VolumeJob
from reminders.errors import RemindersError

# Raise when a field changes meaning; both sides must then be upgraded together. 2: a
# municipality's letterhead travels with the job; 3: letters carry their reference as a QR
# code, and jobs may name their file (re-cuts, reprints).
FORMAT = 3

_SENDER_FIELDS = (
    "department", "street", "house_number", "postal_code", "locality", "phone", "email",
    "appointment_url", "appointment_qr",
)  # fmt: skip
_PRINTED_FIELDS = tuple(PrintedLetter.__dataclass_fields__)


class MalformedMessageError(RemindersError):
    """A job or result that is not what this version of reminders sends (exit 1)."""


def encode_job(job: VolumeJob) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "run_id": job.run_id,
        "as_of": job.as_of.isoformat(),
        "municipality": _encode_municipality(job.municipality),
        "language": job.language,
        "sequence": job.sequence,
        "print_options": job.print_options,
        "letters": [_encode_letter(letter) for letter in job.letters],
        "file_stem": job.file_stem,
    }


def decode_job(data: object) -> VolumeJob:
    with _reading("volume job"):
        fields = _checked(data)
        return VolumeJob(
            run_id=_int(fields["run_id"]),
            as_of=date.fromisoformat(fields["as_of"]),
            municipality=_decode_municipality(fields["municipality"]),
            language=_optional_text(fields["language"]),
            sequence=_int(fields["sequence"]),
            print_options=_text(fields["print_options"]),
            letters=tuple(_decode_letter(letter) for letter in fields["letters"]),
            file_stem=_optional_text(fields["file_stem"]),
        )


def encode_rendered(volume: RenderedVolume) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "file_name": volume.file_name,
        "sha256": volume.sha256,
        "pages": volume.pages,
        "letters": [
            [getattr(letter, name) for name in _PRINTED_FIELDS] for letter in volume.letters
        ],  # rows, not objects: a 1,000-letter volume repeats no field names
        "pdf": _b64(volume.pdf),
        "manifest_csv": _b64(volume.manifest_csv),
        "manifest_json": _b64(volume.manifest_json),
    }


def decode_rendered(data: object) -> RenderedVolume:
    with _reading("rendered volume"):
        fields = _checked(data)
        return RenderedVolume(
            file_name=_text(fields["file_name"]),
            sha256=_text(fields["sha256"]),
            pages=_int(fields["pages"]),
            letters=tuple(_decode_printed(row) for row in fields["letters"]),
            pdf=_unb64(fields["pdf"]),
            manifest_csv=_unb64(fields["manifest_csv"]),
            manifest_json=_unb64(fields["manifest_json"]),
        )


def _encode_municipality(municipality: LetterMunicipality) -> dict[str, Any]:
    sender = municipality.sender
    return {
        "nis_code": municipality.nis_code,
        "name": municipality.name,
        "languages": [language.value for language in municipality.languages],
        "letter_language": municipality.letter_language.value,
        "sender": {name: getattr(sender, name) for name in _SENDER_FIELDS},
        "letterhead": _encode_letterhead(municipality.letterhead),
    }


def _encode_letterhead(letterhead: Letterhead) -> dict[str, Any]:
    logo = letterhead.logo
    return {
        "logo": None
        if logo is None
        else {
            "file_name": logo.file_name,
            "data": _b64(logo.data),
            "kind": logo.kind,
            "height_mm": logo.height_mm,
        },
        "contacts": [
            {
                "lines": list(block.lines),
                "title": block.title,
                "language": None if block.language is None else block.language.value,
            }
            for block in letterhead.contacts
        ],
    }


def _decode_letterhead(data: dict[str, Any]) -> Letterhead:
    logo = data["logo"]
    return Letterhead(
        logo=None
        if logo is None
        else Logo(
            file_name=_text(logo["file_name"]),
            data=_unb64(logo["data"]),
            kind=_text(logo["kind"]),
            height_mm=float(logo["height_mm"]),
        ),
        contacts=tuple(
            ContactBlock(
                lines=tuple(_text(line) for line in block["lines"]),
                title=_optional_text(block["title"]),
                language=None if block["language"] is None else Language(block["language"]),
            )
            for block in data["contacts"]
        ),
    )


def _decode_municipality(data: dict[str, Any]) -> Municipality:
    sender = data["sender"]
    return Municipality(
        nis_code=_text(data["nis_code"]),
        name=_text(data["name"]),
        languages=tuple(Language(value) for value in data["languages"]),
        letter_language=LetterLanguageRule(data["letter_language"]),
        sender=Sender(
            department=_text(sender["department"]),
            street=_text(sender["street"]),
            house_number=_text(sender["house_number"]),
            postal_code=_text(sender["postal_code"]),
            locality=_text(sender["locality"]),
            phone=_optional_text(sender["phone"]),
            email=_optional_text(sender["email"]),
            appointment_url=_optional_text(sender["appointment_url"]),
            appointment_qr=sender["appointment_qr"] is True,
        ),
        letterhead=_decode_letterhead(data["letterhead"]),
    )


def _encode_letter(letter: LetterToPrint) -> dict[str, Any]:
    spec = letter.spec
    return {
        "spec": {
            "reference": spec.reference,
            "municipality_nis": spec.municipality_nis,
            "document_kind": spec.document_kind.value,
            "stage": spec.stage,
            "stage_due_on": spec.stage_due_on.isoformat(),
            "is_final_stage": spec.is_final_stage,
            "expires_on": spec.expires_on.isoformat(),
            "letter_date": spec.letter_date.isoformat(),
            "languages": [language.value for language in spec.languages],
            "given_names": spec.given_names,
            "family_name": spec.family_name,
            "to_parents": spec.to_parents,
            "address_lines": list(spec.address_lines),
        },
        "decision_id": letter.decision_id,
        "document_number": letter.document_number,
        "postal_code": letter.postal_code,
        "templates": letter.templates,
        "template_sha256": letter.template_sha256,
    }


def _decode_letter(data: dict[str, Any]) -> LetterToPrint:
    spec = data["spec"]
    return LetterToPrint(
        spec=LetterSpec(
            reference=_text(spec["reference"]),
            municipality_nis=_text(spec["municipality_nis"]),
            document_kind=DocumentKind(spec["document_kind"]),
            stage=_text(spec["stage"]),
            stage_due_on=date.fromisoformat(spec["stage_due_on"]),
            is_final_stage=_bool(spec["is_final_stage"]),
            expires_on=date.fromisoformat(spec["expires_on"]),
            letter_date=date.fromisoformat(spec["letter_date"]),
            languages=tuple(Language(value) for value in spec["languages"]),
            given_names=_text(spec["given_names"]),
            family_name=_text(spec["family_name"]),
            to_parents=_bool(spec["to_parents"]),
            address_lines=tuple(_text(line) for line in spec["address_lines"]),
        ),
        decision_id=_int(data["decision_id"]),
        document_number=_text(data["document_number"]),
        postal_code=_text(data["postal_code"]),
        templates=_text(data["templates"]),
        template_sha256=_text(data["template_sha256"]),
    )


def _decode_printed(row: list[Any]) -> PrintedLetter:
    if len(row) != len(_PRINTED_FIELDS):
        raise ValueError(f"a printed letter of {len(row)} fields, not {len(_PRINTED_FIELDS)}")
    values = dict(zip(_PRINTED_FIELDS, row, strict=True))
    for name, value in values.items():
        (_int if name in ("decision_id", "first_page", "page_count") else _text)(value)
    return PrintedLetter(**values)


@contextmanager
def _reading(what: str) -> Iterator[None]:
    """Turns what a malformed message raises into one error that names what was read."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as err:  # binascii.Error is a ValueError
        raise MalformedMessageError(f"a malformed {what} message: {err!r}") from None


def _checked(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"expected an object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise ValueError(f"format {data.get('format')!r}, this version reads format {FORMAT}")
    return data


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object) -> bytes:
    return base64.b64decode(_text(value), validate=True)
