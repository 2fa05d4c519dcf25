"""Synthetic registries: fictional persons and documents for the demo, tests and benchmarks."""

from __future__ import annotations

from reminders.synthetic.registry import (
    EARLIEST_AS_OF_YEAR,
    KNOWN_POSTAL_AREAS,
    SyntheticCounts,
    SyntheticMunicipality,
    SyntheticSpec,
    synthetic_national_number,
    write_synthetic_registry,
)

__all__ = [
    "EARLIEST_AS_OF_YEAR",
    "KNOWN_POSTAL_AREAS",
    "SyntheticCounts",
    "SyntheticMunicipality",
    "SyntheticSpec",
    "synthetic_national_number",
    "write_synthetic_registry",
]
