"""The auditor's report on one nightly run as a PDF (ReportLab platypus).

One section per municipality, on pages of its own and in the municipality's language: what the
run decided for which date, the registry imports it read, its entries in the dispatch log, the
letters and skips, the print volumes with their SHA-256, the signed checkpoint that seals the
log, and whether verification found it all intact. The municipality files it as evidence, so
hashes are set whole on one line (small where needed) and can be copied out and compared; long
file names wrap instead. The document is invariant (no timestamp or random id of ReportLab's)
and embeds its fonts: the same report gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Preformatted,
    Spacer,
    Table,
    TableStyle,
)

from reminders.adapters.printing.pdf import BOLD, MM, REGULAR  # importing it registers DejaVu Sans
from reminders.domain.audit_report import MunicipalityRunReport, RunAuditReport
from reminders.domain.model import Language

# No monospaced font ships in reminders/fonts: hashes and the note are set in DejaVu Sans.
MONO = REGULAR
MARGIN = 20 * MM
PADDING = 3.0  # table cells, left and right
WIDTH = A4[0] - 2 * MARGIN - 12  # the frame's own padding is 6 pt a side
HASH_SIZE = 6.5  # 64 hex digits in a volume's or an import's cell: about 94 mm
NOTE_SIZE = 7.5
# Wide enough for 64 hex digits on one line (0 is the widest of them) and the cell's padding.
HASH_COLUMN = stringWidth("0" * 64, MONO, HASH_SIZE) + 2 * PADDING + 1

_LABELS: dict[Language, dict[str, str]] = {
    Language.NL: {
        "title": "Auditrapport van run {run}", "municipality": "Gemeente", "nis": "NIS-code",
        "generated_at": "Rapport opgemaakt op", "as_of": "Peildatum", "started_at": "Gestart op",
        "started_by": "Gestart door", "config": "SHA-256 van de configuratie",
        "code_version": "Codeversie", "imports": "Gelezen registerimporten", "import_id": "Nr.",
        "kind": "Soort", "file": "Bestand", "finished_at": "Afgerond op", "log": "Logboek",
        "entries": "Vermeldingen van deze run in het logboek van de gemeente",
        "by_stage": "Brieven per fase", "stage": "Fase", "letters": "Brieven",
        "by_language": "Brieven per taal", "language": "Taal",
        "by_channel": "Brieven per kanaal", "channel": "Kanaal",
        "channel_email": "e-mail", "channel_paper": "papier",
        "channel_paper_after_email": "papier na een mislukte e-mail",
        "skips": "Overgeslagen, per reden", "reason": "Reden", "count": "Aantal",
        "total": "Totaal", "none": "geen", "volumes": "Printvolumes", "pages": "Pagina's",
        "checkpoint": "Checkpoint", "tree_size": "Boomgrootte", "root": "Wortelhash",
        "signed_at": "Ondertekend op", "key_id": "Sleutel-id", "note": "Ondertekende notitie",
        "verification": "Verificatie", "ok": "OK — de verificatie is geslaagd",
        "broken": "GEBROKEN — de verificatie is mislukt", "page": "pagina", "run": "Run",
    },
    Language.FR: {
        "title": "Rapport d'audit de l'exécution {run}", "municipality": "Commune",
        "nis": "Code INS", "generated_at": "Rapport établi le", "as_of": "Date de référence",
        "started_at": "Démarrée le", "started_by": "Démarrée par",
        "config": "SHA-256 de la configuration", "code_version": "Version du code",
        "imports": "Imports de registre lus", "import_id": "N°", "kind": "Type",
        "file": "Fichier", "finished_at": "Terminé le", "log": "Journal",
        "entries": "Entrées de cette exécution dans le journal de la commune",
        "by_stage": "Lettres par étape", "stage": "Étape", "letters": "Lettres",
        "by_language": "Lettres par langue", "language": "Langue",
        "by_channel": "Lettres par canal", "channel": "Canal",
        "channel_email": "e-mail", "channel_paper": "papier",
        "channel_paper_after_email": "papier après un e-mail en échec",
        "skips": "Omissions par motif", "reason": "Motif", "count": "Nombre",
        "total": "Total", "none": "aucun", "volumes": "Volumes d'impression", "pages": "Pages",
        "checkpoint": "Point de contrôle", "tree_size": "Taille de l'arbre",
        "root": "Hash racine", "signed_at": "Signé le", "key_id": "Identifiant de clé",
        "note": "Note signée", "verification": "Vérification",
        "ok": "OK — la vérification a réussi", "broken": "ROMPU — la vérification a échoué",
        "page": "page", "run": "Exécution",
    },
    Language.DE: {
        "title": "Prüfbericht zum Lauf {run}", "municipality": "Gemeinde", "nis": "NIS-Code",
        "generated_at": "Bericht erstellt am", "as_of": "Stichtag", "started_at": "Gestartet am",
        "started_by": "Gestartet von", "config": "SHA-256 der Konfiguration",
        "code_version": "Codeversion", "imports": "Gelesene Registerimporte",
        "import_id": "Nr.", "kind": "Art", "file": "Datei", "finished_at": "Beendet am",
        "log": "Protokoll", "entries": "Einträge dieses Laufs im Protokoll der Gemeinde",
        "by_stage": "Briefe pro Stufe", "stage": "Stufe", "letters": "Briefe",
        "by_language": "Briefe pro Sprache", "language": "Sprache",
        "by_channel": "Briefe pro Kanal", "channel": "Kanal",
        "channel_email": "E-Mail", "channel_paper": "Papier",
        "channel_paper_after_email": "Papier nach einer gescheiterten E-Mail",
        "skips": "Übersprungen, nach Grund", "reason": "Grund", "count": "Anzahl",
        "total": "Summe", "none": "keine", "volumes": "Druckbände", "pages": "Seiten",
        "checkpoint": "Prüfpunkt", "tree_size": "Baumgröße", "root": "Wurzel-Hash",
        "signed_at": "Signiert am", "key_id": "Schlüssel-ID", "note": "Signierte Notiz",
        "verification": "Überprüfung", "ok": "OK — die Überprüfung war erfolgreich",
        "broken": "GEBROCHEN — die Überprüfung ist fehlgeschlagen", "page": "Seite",
        "run": "Lauf",
    },
}  # fmt: skip

_HASHES = {"config", "root"}
_GREY = colors.HexColor("#555555")
_RULE = colors.HexColor("#999999")
_BODY = ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=12)
_CELL = ParagraphStyle("cell", _BODY, fontSize=8, leading=10)
_HEAD = ParagraphStyle("head", _CELL, fontName=BOLD)
_NUMBER = ParagraphStyle("number", _CELL, alignment=TA_RIGHT)
_TOTAL = ParagraphStyle("total", _NUMBER, fontName=BOLD)
_HASH = ParagraphStyle("hash", _CELL, fontName=MONO, fontSize=HASH_SIZE, leading=8.5)
_WIDE_HASH = ParagraphStyle("wide_hash", _HASH, fontSize=7.5, leading=10)  # a wider column
_TITLE = ParagraphStyle("title", _BODY, fontName=BOLD, fontSize=16, leading=20, spaceAfter=4)
_SUBTITLE = ParagraphStyle("subtitle", _BODY, fontSize=11, leading=14, spaceAfter=8)
_HEADING = ParagraphStyle(
    "heading", _BODY, fontName=BOLD, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4
)
_NOTE = ParagraphStyle("note", _BODY, fontName=MONO, fontSize=NOTE_SIZE, leading=10)


def _p(text: object, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(str(text)), style)


def _table(
    rows: Sequence[list[Any]], widths: Sequence[float], *, header: bool = True, total: bool = False
) -> Table:
    """A ruled table; it repeats its header row on every page it flows onto, and sets off its
    total row (the last) with a heavier rule."""
    style = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTNAME", (0, 0), (-1, -1), REGULAR),  # else each cell selects Helvetica
            ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, _RULE),
        ]
    )
    if header:
        style.add("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))
    if total:
        style.add("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.black)
    return Table(rows, list(widths), repeatRows=int(header), hAlign="LEFT", style=style)


def _pairs(labels: dict[str, str], values: dict[str, object]) -> Table:
    """Label-value lines, by label key; the configuration's and the root's are hashes."""
    rows = [[_p(labels[key], _HEAD), _p(value, _WIDE_HASH if key in _HASHES else _CELL)]
            for key, value in values.items()]  # fmt: skip
    return _table(rows, (48 * MM, WIDTH - 48 * MM), header=False)


def _counts(counts: Sequence[tuple[str, int]], labels: dict[str, str], key: str) -> Flowable:
    """A count per code with its total; the word for "none" when there is nothing."""
    if not counts:
        return _p(labels["none"], _BODY)
    unit = "count" if key == "reason" else "letters"
    rows = [[_p(labels[key], _HEAD), _p(labels[unit], _TOTAL)]]
    # Channels are words of the report's language; other codes stay as the log has them.
    rows += [
        [_p(labels.get(f"channel_{code}", code) if key == "channel" else code), _p(count, _NUMBER)]
        for code, count in counts
    ]
    rows.append([_p(labels["total"], _HEAD), _p(sum(c for _, c in counts), _TOTAL)])
    return _table(rows, (80 * MM, 25 * MM), total=True)


def _short_path(path: str, width: float) -> Paragraph:
    """The file name and its folder: enough to find it, short enough for a table cell; on
    two lines, after the slash, when too wide for one."""
    short = escape("/".join([part for part in path.replace("\\", "/").split("/") if part][-2:]))
    if stringWidth(short, REGULAR, _CELL.fontSize) > width - 2 * PADDING:
        short = short.replace("/", "/<br/>", 1) if "/" in short else short
    return Paragraph(short, _CELL)


def _wrapped(line: str, width: float) -> list[str]:
    """A line of the note broken at spaces to fit ``width``, and within a word only when the
    word alone is too wide: base64 and hashes stay whole wherever they fit."""
    out: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, MONO, NOTE_SIZE) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
        while stringWidth(current, MONO, NOTE_SIZE) > width:
            cut = len(current)
            while cut > 1 and stringWidth(current[:cut], MONO, NOTE_SIZE) > width:
                cut -= 1
            out.append(current[:cut])
            current = current[cut:]
    return [*out, current]


def _imports(m: MunicipalityRunReport, labels: dict[str, str]) -> Flowable:
    if not m.imports:
        return _p(labels["none"], _BODY)
    rows = [[_p(labels["import_id"], _HEAD), _p(labels["kind"], _HEAD),
             Paragraph(f"{escape(labels['file'])}<br/>SHA-256", _HEAD),
             _p(labels["finished_at"], _HEAD)]]  # fmt: skip
    for i in m.imports:  # the hash under the file name: both fit beside the other columns
        file = f'{escape(i.file_name)}<br/><font name="{MONO}" size="{HASH_SIZE}">'
        file += f"{escape(i.file_sha256)}</font>"
        rows.append([_p(i.import_id), _p(i.kind), Paragraph(file, _CELL), _p(i.finished_at)])
    return _table(rows, (10 * MM, 18 * MM, HASH_COLUMN, WIDTH - 28 * MM - HASH_COLUMN))


def _volumes(m: MunicipalityRunReport, labels: dict[str, str]) -> Flowable:
    if not m.volumes:
        return _p(labels["none"], _BODY)
    rows = [[_p(labels["file"], _HEAD), _p(labels["letters"], _TOTAL),
             _p(labels["pages"], _TOTAL), _p("SHA-256", _HEAD)]]  # fmt: skip
    number = 16 * MM
    widths = (WIDTH - 2 * number - HASH_COLUMN, number, number, HASH_COLUMN)
    for v in m.volumes:
        path = _short_path(v.path + (f" ({v.language})" if v.language else ""), widths[0])
        rows.append([path, _p(v.letters, _NUMBER), _p(v.pages, _NUMBER), _p(v.sha256, _HASH)])
    rows.append([_p(labels["total"], _HEAD), _p(sum(v.letters for v in m.volumes), _TOTAL),
                 _p(sum(v.pages for v in m.volumes), _TOTAL), _p("")])  # fmt: skip
    return _table(rows, widths, total=True)


def _verdict(m: MunicipalityRunReport, labels: dict[str, str]) -> Flowable:
    """OK or BROKEN in a coloured box: the line an auditor looks for first."""
    colour = colors.HexColor("#1b6e20" if m.verified else "#b00020")
    style = ParagraphStyle("verdict", _HEADING, spaceBefore=0, spaceAfter=0, textColor=colour)
    box = _table([[_p(labels["ok" if m.verified else "broken"], style)]], (WIDTH,), header=False)
    box.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.2, colour)]))
    return box


def _block(heading: str, *content: Flowable) -> KeepTogether:
    """A heading and what it heads, moved to the next page together when they do not fit."""
    return KeepTogether([_p(heading, _HEADING), *content])


def _section(report: RunAuditReport, m: MunicipalityRunReport) -> list[Flowable]:
    labels = _LABELS[m.language]
    entries = m.last_seq - m.first_seq + 1
    span = f"{m.first_seq}-{m.last_seq} ({entries})" if entries > 0 else labels["none"]
    note = "\n".join(wrapped for line in m.checkpoint_note.rstrip("\n").split("\n")
                     for wrapped in _wrapped(line, WIDTH))  # fmt: skip
    run: dict[str, object] = {
        "as_of": m.as_of.isoformat(), "started_at": m.started_at, "started_by": m.started_by,
        "config": m.config_sha256, "code_version": m.code_version,
        "generated_at": report.generated_at.isoformat(),
    }  # fmt: skip
    checkpoint: dict[str, object] = {
        "tree_size": m.checkpoint_size, "root": m.checkpoint_root,
        "signed_at": m.checkpoint_signed_at, "key_id": m.key_id,
    }  # fmt: skip
    verification = [_p(line, _BODY) for line in m.verification]
    return [
        _SectionStart(m),
        _p(labels["title"].format(run=m.run_id), _TITLE),
        _p(f"{labels['municipality']} {m.name} — {labels['nis']} {m.nis_code}", _SUBTITLE),
        _pairs(labels, run),
        _block(labels["imports"], _imports(m, labels)),
        _block(labels["log"], _p(f"{labels['entries']}: {span}", _BODY)),
        _block(labels["by_stage"], _counts(m.letters_by_stage, labels, "stage")),
        _block(labels["by_language"], _counts(m.letters_by_language, labels, "language")),
        *(
            [_block(labels["by_channel"], _counts(m.letters_by_channel, labels, "channel"))]
            if m.letters_by_channel
            else []
        ),
        _block(labels["skips"], _counts(m.skips_by_reason, labels, "reason")),
        # Not kept together: a long table starts on this page (with room for a few rows).
        CondPageBreak(40 * MM),
        _p(labels["volumes"], _HEADING),
        _volumes(m, labels),
        _block(labels["checkpoint"], _pairs(labels, checkpoint)),
        _block(labels["note"], Preformatted(note, _NOTE)),
        _block(labels["verification"], _verdict(m, labels), Spacer(0, 4), *verification),
    ]


class _SectionStart(Flowable):
    """Takes no room; tells the document whose pages follow, for the footer."""

    def __init__(self, municipality: MunicipalityRunReport) -> None:
        super().__init__()
        self.municipality = municipality

    def draw(self) -> None:
        pass


class _Document(BaseDocTemplate):
    """A4 pages with a footer in the language of the section the page belongs to."""

    def __init__(self, out: io.BytesIO, report: RunAuditReport, total: int | None) -> None:
        super().__init__(
            out, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
            bottomMargin=MARGIN + 5 * MM, invariant=1, title=f"Audit run {report.run_id}",
            author="reminders", creator="reminders",
            initialFontName=REGULAR,  # else the canvas names Helvetica, a font not embedded
        )  # fmt: skip
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        self.addPageTemplates([PageTemplate("page", [frame], onPageEnd=self._footer)])
        self.report, self.total = report, total
        self.municipality: MunicipalityRunReport | None = None

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - ReportLab's hook
        if isinstance(flowable, _SectionStart):
            self.municipality = flowable.municipality

    def _footer(self, canvas: Canvas, _: BaseDocTemplate) -> None:
        m = self.municipality
        labels = _LABELS[m.language if m else Language.NL]
        page = f"{labels['page']} {canvas.getPageNumber()}"
        page += f"/{self.total}" if self.total else ""
        left = f"{labels['run']} {self.report.run_id}"
        left += f" · {m.name} ({m.nis_code})" if m else ""
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(_GREY)
        canvas.drawString(MARGIN, MARGIN, left)
        canvas.drawRightString(A4[0] - MARGIN, MARGIN, page)
        canvas.restoreState()


def audit_report_pdf(report: RunAuditReport) -> bytes:
    """The report as a PDF: one section per municipality, each on its own pages."""

    def story() -> list[Flowable]:
        flowables: list[Flowable] = []
        for index, municipality in enumerate(report.municipalities):
            if index:
                flowables.append(PageBreak())
            flowables += _section(report, municipality)
        return flowables or [_p(_LABELS[Language.NL]["none"], _BODY)]

    # Built twice: the first pass counts the pages, so that the footer can say "page 2/5".
    counting = _Document(io.BytesIO(), report, None)
    counting.build(story())
    out = io.BytesIO()
    _Document(out, report, counting.page).build(story())
    return out.getvalue()
