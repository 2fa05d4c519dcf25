"""Synthetic registries: fictional persons and documents for the demo, tests and benchmarks."""

from __future__ import annotations

from reminders.synthetic.registry import (
    KNOWN_POSTAL_AREAS,
    SyntheticCounts,
    SyntheticMunicipality,
    SyntheticSpec,
    synthetic_national_number,
    write_synthetic_registry,
)

__all__ = [
    "KNOWN_POSTAL_AREAS",
    "SyntheticCounts",
    "SyntheticMunicipality",
    "SyntheticSpec",
    "synthetic_national_number",
    "write_synthetic_registry",
]
