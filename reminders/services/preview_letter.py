"""One letter, rendered exactly as a run would print it, recorded nowhere (`reminders preview`).

Civil-affairs staff use it to read a letter before the night sends it, or to check a template
change on a real case. The stage defaults to the document's current one on the date (or its
first stage when none is due yet).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from reminders.domain.due import SkipReason, reached_stages, skip_reason
from reminders.domain.letter_language import letter_languages
from reminders.domain.letters import LetterMunicipality, LetterSpec, LetterText, letter_spec
from reminders.domain.model import DocumentKind
from reminders.domain.policy import ReminderPolicy
from reminders.errors import Reason, ReasonCode, UsageError
from reminders.services.ports import LetterStore, LetterTexts

RenderPdf = Callable[[LetterSpec, Sequence[LetterText], LetterMunicipality], bytes]


class NotServedError(UsageError):
    """The document's holder lives in a municipality not among those given."""


@dataclass(frozen=True, slots=True)
class Preview:
    pdf: bytes
    spec: LetterSpec
    # Why the night would not send this letter today, if it would not (it is rendered anyway).
    would_skip: SkipReason | None


def preview_letter(
    kind: DocumentKind,
    number: str,
    *,
    stage: str | None,
    as_of: date,
    municipalities: Sequence[LetterMunicipality],
    policies: Mapping[DocumentKind, ReminderPolicy],
    store: LetterStore,
    texts: LetterTexts,
    render: RenderPdf,
) -> Preview:
    """The letter about document ``kind:number`` at ``stage`` on ``as_of``; UsageError (exit 2)
    when there is no such document, policy, stage or address."""
    where = f"{kind.value}:{number}"
    facts = store.letter_for_document(kind, number)
    if facts is None:
        raise UsageError(
            f"--document {where}: no such document in the registry",
            reason=Reason(ReasonCode.NO_SUCH_DOCUMENT, {"document": where}),
        )
    holder = facts.document.holder
    municipality = next((m for m in municipalities if m.nis_code == holder.municipality_nis), None)
    if municipality is None:
        raise NotServedError(
            f"--document {where}: the holder lives in municipality {holder.municipality_nis}, "
            "which this installation does not serve"
        )
    policy = policies.get(kind)
    if policy is None:
        raise UsageError(
            f"--document {where}: config.toml has no reminder policy for {kind}",
            reason=Reason(ReasonCode.NO_POLICY, {"kind": kind.value}),
        )
    names = [s.name for s in policy.stages]
    if stage is not None and stage not in names:
        raise UsageError(
            f"--stage {stage}: {kind} has the stages {', '.join(names)}",
            reason=Reason(
                ReasonCode.UNKNOWN_STAGE,
                {"stage": stage, "kind": kind.value, "stages": ", ".join(names)},
            ),
        )
    if facts.document.expires_on is None:
        raise UsageError(
            f"--document {where}: it has no expiry date (a paper licence)",
            reason=Reason(ReasonCode.NO_EXPIRY, {"document": where}),
        )
    if facts.address is None:
        raise UsageError(
            f"--document {where}: the holder has no usable address (no_address)",
            reason=Reason(ReasonCode.NO_ADDRESS, {"document": where}),
        )
    if stage is None:
        reached = reached_stages(policy, facts.document.expires_on, as_of=as_of)
        stage = reached[-1].name if reached else names[0]
    languages = letter_languages(municipality.letter_language, municipality.languages,
                                 holder.language)  # fmt: skip
    facts = replace(facts, stage=stage, languages=languages)
    spec = letter_spec(
        facts,
        policy,
        reference=f"{municipality.nis_code}-PREVIEW",
        municipality_nis=municipality.nis_code,
        letter_date=as_of,
        country_name=(
            texts.country_name(facts.address.country, languages[0])
            if facts.address is not None and facts.address.is_foreign
            else None
        ),
    )
    letter_texts = [texts.text(spec, language, municipality) for language in languages]
    return Preview(
        render(spec, letter_texts, municipality), spec, skip_reason(facts.document, municipality)
    )
