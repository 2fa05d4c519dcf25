"""Synthetic registries: fictional persons and documents for the demo, tests and benchmarks."""

from __future__ import annotations

from reminders.synthetic.registry import (
    DOCUMENT_COLUMNS,
    KNOWN_POSTAL_AREAS,
    PERSON_COLUMNS,
    SyntheticCounts,
    SyntheticMunicipality,
    SyntheticSpec,
    synthetic_national_number,
    write_synthetic_registry,
)

__all__ = [
    "DOCUMENT_COLUMNS",
    "KNOWN_POSTAL_AREAS",
    "PERSON_COLUMNS",
    "SyntheticCounts",
    "SyntheticMunicipality",
    "SyntheticSpec",
    "synthetic_national_number",
    "write_synthetic_registry",
]
