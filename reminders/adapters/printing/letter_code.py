"""2D codes printed on letters (issue 21): the letter's reference, so that an envelope bpost
brings back can be scanned, and optionally the municipality's appointment page.

QR codes, made with ReportLab's own encoder (`reportlab.graphics.barcode.qrencoder`, written
against ReportLab 4.5): no new dependency. Every letter has a code of its own, so making it is
on the path of every letter, and ReportLab's public way (`QRCode.make()`) takes some 3.5 ms:
ten times what the rest of a letter costs. Two shortcuts make it a few dozen microseconds:

- one mask pattern for every code instead of trying all eight and keeping the best
  (`getBestMaskPattern` draws the symbol eight times); any mask is valid, a reader finds the
  one used in the symbol's format information;
- the parts of a symbol that do not depend on its text (finder, timing and alignment
  patterns, format information, where each data bit goes and the mask over it) are made once
  per version by ReportLab's `QRCode.makeImpl`, and only the data bits are placed per code;
  the data codewords follow `QRCode.createData` (alphanumeric or byte mode, terminator,
  padding), the error correction its Reed-Solomon code with the generator polynomial kept.

`tests/integration/test_letter_code.py` checks that the modules are exactly those of
`QRCode.makeImpl` with the same mask (ReportLab's own path) for many texts, and that a real
decoder reads them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import zip_longest
from typing import Any

from reportlab.graphics.barcode import qrencoder

# The encoder's stubs (types-reportlab) leave most of it untyped: it is used as Any here, its
# results checked by the tests against the encoder's own output.
qr: Any = qrencoder

MASK = 0  # (row + column) % 2: a checkerboard, the same for every code
LEVEL = qr.QRErrorCorrectLevel.M  # 15 % of the codewords may be lost (a stain, a fold)
QUIET_ZONE = 4  # modules of white around a QR code (ISO/IEC 18004)


@dataclass(frozen=True, slots=True)
class Symbol:
    """A QR code's modules, row by row from the top: in ``rows[r]`` the most significant of
    ``size`` bits is the leftmost module, set when dark (a row of an image mask)."""

    size: int  # modules per side
    rows: tuple[int, ...]

    def is_dark(self, row: int, column: int) -> bool:
        return bool(self.rows[row] >> (self.size - 1 - column) & 1)


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every symbol of one version has in common (at LEVEL and MASK)."""

    rows: tuple[int, ...]  # function patterns; the data modules as the mask alone
    # Per codeword (in order) and value: what its 8 bits change, as (row, bits) pairs.
    placed: tuple[tuple[tuple[tuple[int, int], ...], ...], ...]
    blocks: tuple[tuple[int, int], ...]  # Reed-Solomon blocks: (data codewords, total)


@cache
def _frame(version: int) -> _Frame:
    blocks = qr.QRRSBlock.getRSBlocks(version, LEVEL)
    codewords = sum(block.totalCount for block in blocks)
    symbol = qr.QRCode(version, LEVEL)
    symbol.dataCache = [0] * codewords  # all-light data: the data modules show the mask
    symbol.makeImpl(False, MASK)
    rows = _packed(symbol.modules)
    size = len(rows)
    positions = [(row, column) for column, row in symbol.dataPosIterator()]
    placed = []
    for index in range(codewords):
        bit_places = positions[8 * index : 8 * index + 8]  # most significant bit first
        per_value = []
        for value in range(256):
            changes: dict[int, int] = {}
            for bit, (row, column) in enumerate(bit_places):
                if value >> (7 - bit) & 1:
                    changes[row] = changes.get(row, 0) | 1 << (size - 1 - column)
            per_value.append(tuple(changes.items()))
        placed.append(tuple(per_value))
    return _Frame(rows, tuple(placed), tuple((b.dataCount, b.totalCount) for b in blocks))


@cache
def _remainder_table(ec_count: int) -> tuple[int, ...]:
    """For each feedback byte f, f times the Reed-Solomon generator polynomial (ReportLab's
    `QRUtil.getErrorCorrectPolynomial`) without its leading term, as an int of ``ec_count``
    bytes: the table of a byte-wise division (an LFSR, as CRCs are computed)."""
    polynomial = qr.QRUtil.getErrorCorrectPolynomial(ec_count)
    logs = [qr.QRMath.glog(polynomial.get(i)) for i in range(1, polynomial.getLength())]
    table = [0]
    for feedback in range(1, 256):
        ratio = qr.LOG_TABLE[feedback]
        table.append(int.from_bytes(bytes(qr.EXP_TABLE[(g + ratio) % 255] for g in logs), "big"))
    return tuple(table)


def _error_correction(data: Sequence[int], ec_count: int) -> list[int]:
    """The remainder of data(x)·x^ec divided by the generator: the block's EC codewords (what
    ReportLab's `QRPolynomial.mod` gives, byte by byte)."""
    table = _remainder_table(ec_count)
    shift, full = 8 * (ec_count - 1), (1 << 8 * ec_count) - 1
    register = 0
    for byte in data:
        register = ((register << 8) & full) ^ table[byte ^ (register >> shift)]
    return list(register.to_bytes(ec_count, "big"))


def _segment(text: str) -> Any:
    """The text as ReportLab's `QRCode.addData` encodes it: numeric, alphanumeric (a
    reference), kanji or bytes (a web address), the first that takes it."""
    symbol = qr.QRCode(None, LEVEL)
    symbol.addData(text)
    segment: Any = symbol.dataList[0]
    return segment


@cache
def _values(chars: str) -> dict[str, int]:
    return {character: value for value, character in enumerate(chars)}


def _segment_bits(segment: Any, version: int) -> tuple[int, int]:
    """The segment's bits, header included, as (an int, how many): `QR.write`, packed into
    an int rather than put into a `QRBitBuffer` bit by bit."""
    count_bits = segment.getLengthBits(version)
    value = (segment.mode << count_bits) | len(segment.data)
    length = 4 + count_bits
    if isinstance(segment, qr.QR8bitByte):
        data = bytes(segment.data)
        return (value << 8 * len(data)) | int.from_bytes(data, "big"), length + 8 * len(data)
    if isinstance(segment, qr.QRNumber | qr.QRAlphaNum):
        values, base = _values(segment.chars), len(segment.chars)
        widths, group, data = segment.bits, segment.group, segment.data
        for start in range(0, len(data), group):
            part = data[start : start + group]
            number = 0
            for character in part:
                number = number * base + values[character]
            width = sum(widths[: len(part)])
            value, length = (value << width) | number, length + width
        return value, length
    buffer = qr.QRBitBuffer()  # kanji: ReportLab's own way, bit by bit
    segment.write(buffer, version)
    bits = buffer.getLengthInBits()
    packed = int.from_bytes(bytes(buffer.buffer), "big") >> (8 * len(buffer.buffer) - bits)
    return packed, bits


def _codewords(segment: Any, version: int, frame: _Frame) -> list[int]:
    """Data and error-correction codewords, interleaved by block (`QRCode.createData`)."""
    bits, used = _segment_bits(segment, version)
    capacity = 8 * sum(data for data, _ in frame.blocks)
    if used > capacity:
        raise ValueError(f"{len(segment)} characters do not fit a version-{version} QR code")
    terminator = min(4, capacity - used)  # then light bits up to a whole byte
    pad = -(used + terminator) % 8
    bits <<= terminator + pad
    used += terminator + pad
    data = list(bits.to_bytes(used // 8, "big"))
    padding = (qr.QRCode.PAD0, qr.QRCode.PAD1)
    data += [padding[i % 2] for i in range(capacity // 8 - len(data))]
    if len(frame.blocks) == 1:  # references and short addresses: no interleaving
        data_count, total = frame.blocks[0]
        return data + _error_correction(data, total - data_count)
    data_blocks, ec_blocks, offset = [], [], 0
    for data_count, total in frame.blocks:
        block = data[offset : offset + data_count]
        offset += data_count
        data_blocks.append(block)
        ec_blocks.append(_error_correction(block, total - data_count))
    return [
        codeword
        for group in (data_blocks, ec_blocks)
        for column in zip_longest(*group)
        for codeword in column
        if codeword is not None
    ]


_versions: dict[tuple[type, int], int] = {}


def _version(segment: Any) -> int:
    """The smallest version that holds a segment at LEVEL (`QRCode.calculate_version`): it
    depends on the segment's mode and length only, so it is worked out once per pair."""
    key = (type(segment), len(segment))
    version = _versions.get(key)
    if version is None:
        symbol = qr.QRCode(None, LEVEL)
        symbol.dataList.append(segment)
        version = _versions[key] = int(symbol.calculate_version())
    return version


def qr_symbol(text: str) -> Symbol:
    """The QR code of ``text`` (a reference, a web address) at level M with mask MASK: the
    modules `QRCode.makeImpl(False, MASK)` gives, made faster."""
    segment = _segment(text)
    version = _version(segment)
    frame = _frame(version)
    rows = list(frame.rows)
    for codeword, places in zip(_codewords(segment, version, frame), frame.placed, strict=True):
        for row, bits in places[codeword]:
            rows[row] ^= bits
    return Symbol(len(rows), tuple(rows))


def reportlab_symbol(text: str) -> Symbol:
    """The same code by ReportLab's own path with the same mask: what the tests compare
    `qr_symbol` with (slow: for tests only)."""
    symbol = qr.QRCode(None, LEVEL)
    symbol.addData(text)
    symbol.version = symbol.calculate_version()
    symbol.makeImpl(False, MASK)
    rows = _packed(symbol.modules)
    return Symbol(len(rows), rows)


def _packed(modules: Sequence[Sequence[object]]) -> tuple[int, ...]:
    """ReportLab's rows of booleans as ints, leftmost module the most significant bit."""
    return tuple(int("".join("1" if dark else "0" for dark in row), 2) for row in modules)


def code_operators(symbol: Symbol, *, left: float, bottom: float, width: float) -> str:
    """PDF operators that paint ``symbol`` black, ``width`` points wide, its lower left corner
    (quiet zone not included) at (``left``, ``bottom``): one image mask of one bit per module,
    inline and hex-encoded, rather than a rectangle per module (a few hundred bytes and one
    operator per code, scaled without interpolation, so the modules stay sharp)."""
    size = symbol.size
    pad = -size % 8
    data = b"".join((row << pad).to_bytes((size + pad) // 8, "big") for row in symbol.rows)
    return (
        f"q 0 g {width:.2f} 0 0 {width:.2f} {left:.2f} {bottom:.2f} cm "
        f"BI /W {size} /H {size} /IM true /BPC 1 /D [1 0] /F /AHx ID {data.hex()}> EI Q"
    )
