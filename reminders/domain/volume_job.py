"""A print volume as a unit of rendering work, and what rendering it gives back.

The run decides and records in one process; rendering, the costly part, fans out over worker
processes (or machines). A `VolumeJob` carries everything a worker needs to render a volume
except the templates and fonts, which every worker has; the worker checks that its templates
hash to what the run logged (`LetterToPrint.template_sha256`) and that its print options are
the run's. What comes back (`RenderedVolume`) is the volume's files as bytes, so only the
run's own process writes them, stages them and records them, in volume order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reminders.domain.letters import LetterMunicipality, LetterSpec, PrintedLetter


@dataclass(frozen=True, slots=True)
class LetterToPrint:
    """One letter of a volume: its spec and what the manifest and the log say of it."""

    spec: LetterSpec
    decision_id: int
    document_number: str
    postal_code: str
    templates: str  # the template names, "+"-joined for a bilingual letter
    template_sha256: str  # over the sources the run checked (combined_sha256 when bilingual)


@dataclass(frozen=True, slots=True)
class VolumeJob:
    """One volume to render: at most ``[print] volume_max_letters`` letters, in sorting order."""

    run_id: int
    as_of: date  # the run's date, printed on the cover sheet
    municipality: LetterMunicipality
    language: str | None  # the series' letter language when volumes are split by language
    sequence: int  # 1, 2, ... within the series
    print_options: str  # the run's [print] options; a worker with other options refuses
    letters: tuple[LetterToPrint, ...]
    # A volume made after its run (a re-cut, a reprint) names its file: never a run's name.
    file_stem: str | None = None

    @property
    def file_name(self) -> str:
        if self.file_stem:
            return f"{self.file_stem}.pdf"
        series = f"volume-{self.language}" if self.language else "volume"
        return f"{series}-{self.sequence:03d}.pdf"


@dataclass(frozen=True, slots=True)
class RenderedVolume:
    """A rendered volume: its PDF and manifests as bytes, and where each letter landed."""

    file_name: str
    sha256: str  # of the PDF
    pages: int
    letters: tuple[PrintedLetter, ...]
    pdf: bytes
    manifest_csv: bytes
    manifest_json: bytes


def combined_sha256(digests: Sequence[str]) -> str:
    """One hash for a letter's template sources: the digest itself for one language, a hash
    over both, in the letter's language order, for a bilingual letter."""
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("+".join(digests).encode()).hexdigest()
