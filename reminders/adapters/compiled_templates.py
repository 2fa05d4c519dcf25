"""Jinja's compiled code kept in memory for the process (Jinja's `BytecodeCache`, which ships
only file and memcached stores): environments built alike share it instead of compiling the
same template files again, as every command of a test process and every console app does."""

from __future__ import annotations

from types import CodeType

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket


class CompiledInMemory(BytecodeCache):
    """Each template file's code by Jinja's bucket key (its name and path) and the checksum of
    its source, so an edited file is compiled anew. The code depends on the environment's
    options (autoescape, whitespace, extensions), so one instance serves only environments
    built with the same ones; it does not depend on globals and filters, looked up when the
    code runs."""

    def __init__(self, kept: int) -> None:
        self._kept = kept  # templates' code kept, the oldest dropped first
        self._code: dict[tuple[str, str], CodeType] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self._code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        if bucket.code is not None:
            self._code[(bucket.key, bucket.checksum)] = bucket.code
            while len(self._code) > self._kept:
                del self._code[next(iter(self._code))]
