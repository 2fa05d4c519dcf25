"""A PDF's first page as a PNG picture (PDFium via pypdfium2): `preview --png`, and the
letter shown in the console without a PDF viewer."""

from __future__ import annotations

import io

import pypdfium2  # type: ignore[import-untyped]

PREVIEW_DPI = 150


def first_page_png(pdf: bytes, *, dpi: int = PREVIEW_DPI) -> bytes:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
