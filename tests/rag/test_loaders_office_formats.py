"""Spreadsheets (XLSX, ODS), presentations (PPTX, ODP) and mails (EML, MSG) built here, and their refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from rag import SUPPORTED_MIME_TYPES, Chunker, LoadedDocument, load_document
from rag._spreadsheet import SECTION_CHARS
from rag.errors import (
    CorruptDocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedFormatError,
)
from tests.rag.factories import (
    make_docx,
    make_msg,
    make_odp,
    make_ods,
    make_pptx,
    make_xlsx,
    make_zip,
    rezip,
)

LIMITS = {"max_bytes": 5_000_000, "max_pages": 20}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def load(data: bytes, filename: str, **kwargs: object) -> LoadedDocument:
    return load_document(data, filename=filename, **{**LIMITS, "enable_ocr": False, **kwargs})  # type: ignore[arg-type]


BUDGET: dict[str, list[list[object]]] = {
    "Budget 2026": [
        ["Budget prévisionnel 2026"],
        [],
        ["Poste", None, "Montant", "Service"],
        ["Formation", None, 1200, "RH"],
        ["Logiciels", None, 3400.5, "DSI"],
        ["Total", None, "=SUM(C4:C5)"],
    ],
    "Vide": [],
    "Agents": [["Nom", "Arrivée"], ["Alice Martin", datetime(2024, 9, 1)], ["Bruno Petit", datetime(2025, 1, 6)]],
}


# --- spreadsheets ----------------------------------------------------------------------------------------


def test_xlsx_sheets_become_rows_with_their_header_repeated() -> None:
    data = make_xlsx(BUDGET, title="Budget du service")
    # openpyxl writes formulas without a cached value: store the one Excel would have saved.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<f>SUM(C4:C5)</f><v></v>" in sheet_xml
    data = rezip(data, {"xl/worksheets/sheet1.xml": sheet_xml.replace(b"<v></v>", b"<v>4600.5</v>")})

    doc = load(data, "budget.xlsx")
    assert doc.title == "Budget du service"
    assert doc.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert doc.page_count == 3
    # The empty sheet leaves no section; the others keep their 1-based position among the tabs.
    assert [(s.heading, s.page) for s in doc.sections] == [("Feuille Budget 2026", 1), ("Feuille Agents", 3)]
    assert doc.sections[0].text.split("\n") == [
        "Budget prévisionnel 2026",
        "Ligne 4 — Poste : Formation ; Montant : 1200 ; Service : RH",
        "Ligne 5 — Poste : Logiciels ; Montant : 3400,5 ; Service : DSI",
        "Ligne 6 — Poste : Total ; Montant : 4600,5",  # the cached value, never the formula
    ]
    assert "SUM" not in doc.text
    assert "Ligne 2 — Nom : Alice Martin ; Arrivée : 01/09/2024" in doc.sections[1].text


def test_xlsx_without_a_header_names_columns_by_letter() -> None:
    doc = load(make_xlsx({"Mesures": [[12, 14.5], [13, None, 17]]}), "mesures.xlsx")
    assert doc.sections[0].text == "Ligne 1 — A : 12 ; B : 14,5\nLigne 2 — A : 13 ; C : 17"


def test_long_sheet_is_split_into_bounded_sections_that_chunk_with_their_header() -> None:
    rows: list[list[object]] = [["Agent", "Service", "Jours de congé"]]
    rows += [[f"Agent numéro {n}", f"Service {n % 7}", 20 + n % 10] for n in range(1, 401)]
    doc = load(make_xlsx({"Congés": rows}), "conges.xlsx")
    assert len(doc.sections) > 5
    assert {(s.heading, s.page) for s in doc.sections} == {("Feuille Congés", 1)}
    assert all(len(s.text) <= SECTION_CHARS for s in doc.sections)
    lines = [line for s in doc.sections for line in s.text.split("\n")]
    assert len(lines) == 400  # no row lost or cut between two sections
    assert lines[-1] == "Ligne 401 — Agent : Agent numéro 400 ; Service : Service 1 ; Jours de congé : 20"
    chunks = Chunker(chunk_tokens=64, overlap_tokens=0).split(doc, document_id="conges")
    assert all(chunk.text.startswith("Ligne ") and "Jours de congé :" in chunk.text for chunk in chunks)


def test_ods_sheets_with_repeated_empty_rows_and_columns() -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    def cell(text: str, *, value: str | None = None, formula: str | None = None) -> TableCell:
        attributes = {"valuetype": "float", "value": value} if value else {"valuetype": "string"}
        element = TableCell(formula=formula, **attributes) if formula else TableCell(**attributes)
        element.addElement(P(text=text))
        return element

    document = OpenDocumentSpreadsheet()
    table = Table(name="Budget 2026")
    header, first = TableRow(), TableRow()
    for element in (cell("Poste"), TableCell(numbercolumnsrepeated="3"), cell("Montant")):
        header.addElement(element)
    for element in (cell("Formation"), TableCell(numbercolumnsrepeated="3"), cell("1 200,00 €", value="1200")):
        first.addElement(element)
    # LibreOffice pads sheets like this: a million empty rows, each 16 384 empty cells wide, as one element.
    padding = TableRow(numberrowsrepeated="1000000")
    padding.addElement(TableCell(numbercolumnsrepeated="16384"))
    total = TableRow()
    total.addElement(cell("Total"))
    total.addElement(TableCell(numbercolumnsrepeated="3"))
    total.addElement(cell("1 200,00 €", value="1200", formula="of:=SUM([.E2:.E2])"))
    for row in (header, first, padding, total):
        table.addElement(row)
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)

    doc = load(buffer.getvalue(), "budget.ods")
    assert doc.mime == "application/vnd.oasis.opendocument.spreadsheet"
    assert [(s.heading, s.page) for s in doc.sections] == [("Feuille Budget 2026", 1)]
    assert doc.sections[0].text == (
        "Ligne 2 — Poste : Formation ; Montant : 1 200,00 €\nLigne 1000003 — Poste : Total ; Montant : 1 200,00 €"
    )


def test_ods_title_pages_and_header() -> None:
    sheets: dict[str, list[list[object]]] = {
        "Notes": [["Sujet"], ["Rien"]],
        "Effectifs": [["Service", "Agents"], ["RH", 12], ["DSI", 30]],
    }
    doc = load(make_ods(sheets, title="Tableau de bord"), "tableau.ods")
    assert doc.title == "Tableau de bord"
    assert doc.page_count == 2
    assert [(s.heading, s.page) for s in doc.sections] == [("Feuille Notes", 1), ("Feuille Effectifs", 2)]
    assert doc.sections[0].text == "Ligne 2 — Sujet : Rien"
    assert doc.sections[1].text == "Ligne 2 — Service : RH ; Agents : 12\nLigne 3 — Service : DSI ; Agents : 30"


def test_spreadsheet_cells_are_capped_by_max_chars() -> None:
    rows: list[list[object]] = [["Code", "Libellé"], *([n, f"Libellé {n}"] for n in range(2_000))]
    with pytest.raises(DocumentTooLargeError, match="trop de"):
        load(make_xlsx({"Codes": rows}), "codes.xlsx", max_chars=5_000)
    with pytest.raises(DocumentTooLargeError, match="trop de"):
        load(make_ods({"Codes": rows}), "codes.ods", max_chars=5_000)


def test_spreadsheet_without_any_value_is_empty() -> None:
    with pytest.raises(EmptyDocumentError, match="Aucun texte"):
        load(make_xlsx({"Feuil1": [], "Feuil2": [[None, None]]}), "vide.xlsx")
    with pytest.raises(EmptyDocumentError, match="Aucun texte"):
        load(make_ods({"Feuille1": [[None]]}), "vide.ods")


# --- presentations ---------------------------------------------------------------------------------------

SLIDES: list[dict[str, object]] = [
    {"title": "Ordre du jour", "body": ["Budget 2026", "Recrutements"], "notes": "Rappeler la date limite du 15 mars."},
    {"body": ["Une diapositive sans titre"], "table": [["Poste", "Montant"], ["Formation", "1 200 €"]]},
    {"title": "Conclusion", "body": ["Vote à main levée"]},
]


def test_pptx_one_section_per_slide_with_tables_and_notes() -> None:
    doc = load(make_pptx(SLIDES, title="Comité technique"), "comite.pptx")
    assert doc.title == "Comité technique"
    assert doc.mime == "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    assert doc.page_count == 3
    assert [(s.page, s.heading) for s in doc.sections] == [
        (1, "Ordre du jour"),
        (2, "Diapositive 2"),
        (3, "Conclusion"),
    ]
    assert doc.sections[0].text == (
        "Ordre du jour\nBudget 2026\nRecrutements\nNotes : Rappeler la date limite du 15 mars."
    )
    assert doc.sections[1].text == "Une diapositive sans titre\nPoste | Montant\nFormation | 1 200 €"
    assert "Notes" not in doc.sections[2].text


def test_pptx_title_falls_back_to_the_first_slide_title() -> None:
    assert load(make_pptx(SLIDES), "comite.pptx").title == "Ordre du jour"


def test_odp_slides_in_reading_order_with_notes_and_names() -> None:
    slides: list[dict[str, object]] = [
        {"title": "Ordre du jour", "body": ["Budget 2026", "Recrutements"], "notes": "Rappeler la date limite."},
        {"name": "Annexe financière", "body": ["Détail des crédits"]},
        {"body": ["Questions diverses"]},
    ]
    doc = load(make_odp(slides, title="Comité technique"), "comite.odp")
    assert doc.title == "Comité technique"
    assert doc.mime == "application/vnd.oasis.opendocument.presentation"
    assert doc.page_count == 3
    assert [(s.page, s.heading) for s in doc.sections] == [
        (1, "Ordre du jour"),
        (2, "Annexe financière"),  # a slide renamed by its author
        (3, "Diapositive 3"),  # LibreOffice's own "page3"
    ]
    # The title frame comes after the body in the file, but above it on the slide.
    assert doc.sections[0].text == "Ordre du jour\nBudget 2026\nRecrutements\nNotes : Rappeler la date limite."


def test_presentations_over_the_page_limit_and_empty_ones() -> None:
    many: list[dict[str, object]] = [{"title": f"Diapo {n}"} for n in range(5)]
    with pytest.raises(DocumentTooLargeError, match="trop de pages"):
        load(make_pptx(many), "long.pptx", max_pages=3)
    with pytest.raises(DocumentTooLargeError, match="trop de pages"):
        load(make_odp(many), "long.odp", max_pages=3)
    with pytest.raises(EmptyDocumentError):
        load(make_pptx([{}]), "blanche.pptx")


# --- mails -----------------------------------------------------------------------------------------------


def _mail(subject: str = "Réunion budget", body: str | None = "Bonjour,\nle budget 2026 est voté.") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Alice Martin <alice.martin@exemple.gouv.fr>"
    message["To"] = "Bruno Petit <bruno.petit@exemple.gouv.fr>"
    message["Subject"] = subject
    message["Date"] = "Thu, 12 Mar 2026 10:15:00 +0100"
    if body is not None:
        message.set_content(body)
    return message


def test_eml_headers_plain_body_and_attachments() -> None:
    message = _mail()
    message.add_alternative("<p>Version HTML à ignorer</p>", subtype="html")
    note = make_docx(title="Note", blocks=[(1, "Congés"), (None, "Les congés annuels sont de 25 jours.")])
    message.add_attachment(note, maintype="application", subtype="octet-stream", filename="note.docx")
    message.add_attachment("Liste des présents : 12 agents.", filename="présents.txt")
    doc = load(message.as_bytes(), "reunion.eml")
    assert doc.title == "Réunion budget"
    assert doc.mime == "message/rfc822"
    assert doc.sections[0].heading is None
    assert doc.sections[0].text == (
        "De : Alice Martin <alice.martin@exemple.gouv.fr>\n"
        "À : Bruno Petit <bruno.petit@exemple.gouv.fr>\n"
        "Date : 12/03/2026 10:15\n"
        "Objet : Réunion budget\n\n"
        "Bonjour,\nle budget 2026 est voté."
    )
    assert "HTML" not in doc.text
    assert [(s.heading, s.text) for s in doc.sections[1:]] == [
        ("Pièce jointe : note.docx › Congés", "Les congés annuels sont de 25 jours."),
        ("Pièce jointe : présents.txt", "Liste des présents : 12 agents."),
    ]


def test_eml_html_body_goes_through_the_html_loader() -> None:
    message = _mail(subject="=?utf-8?q?Cong=C3=A9s_d=27=C3=A9t=C3=A9?=", body=None)
    message.set_content(
        "<html><head><meta charset='iso-8859-1'><script>pirate()</script></head>"
        "<body><h1>Congés d'été</h1><p>Déposez vos demandes avant le 1er mai.</p></body></html>",
        subtype="html",
    )
    doc = load(message.as_bytes(), "conges.eml")
    assert doc.title == "Congés d'été"  # RFC 2047 decoded
    assert doc.sections[0].text.endswith(
        "Objet : Congés d'été\n\nCongés d'été\n\nDéposez vos demandes avant le 1er mai."
    )
    assert "pirate" not in doc.text


def test_eml_unreadable_attachments_leave_a_note_and_the_mail_is_kept() -> None:
    message = _mail()
    message.add_attachment(b"MZ\x90\x00binary", maintype="application", subtype="octet-stream", filename="setup.exe")
    message.add_attachment(b"PK\x03\x04broken", maintype="application", subtype="octet-stream", filename="cassé.docx")
    message.add_attachment(b"-----BEGIN PGP SIGNATURE-----", maintype="application", subtype="pgp-signature")
    doc = load(message.as_bytes(), "reunion.eml")
    assert "le budget 2026 est voté" in doc.sections[0].text
    notes = {s.heading: s.text for s in doc.sections[1:]}
    assert list(notes) == ["Pièce jointe : setup.exe", "Pièce jointe : cassé.docx"]  # the signature is dropped
    assert notes["Pièce jointe : setup.exe"].startswith("Pièce jointe « setup.exe » non lue : Format de")
    assert "non lue" in notes["Pièce jointe : cassé.docx"]


def test_eml_nested_mails_are_read_two_levels_deep() -> None:
    deepest = _mail(subject="Niveau 3", body="Texte du niveau 3.")
    deepest.add_attachment("Annexe du niveau 3.", filename="annexe3.txt")
    level2 = _mail(subject="Niveau 2", body="Texte du niveau 2.")
    level2.add_attachment(deepest)
    level1 = _mail(subject="Niveau 1", body="Texte du niveau 1.")
    level1.add_attachment(level2)
    top = _mail(subject="Niveau 0", body="Texte du niveau 0.")
    top.add_attachment(level1)
    doc = load(top.as_bytes(), "transfert.eml")
    headings = [s.heading for s in doc.sections]
    assert headings == [
        None,
        "Pièce jointe : Niveau 1.eml",
        "Pièce jointe : Niveau 1.eml › Pièce jointe : Niveau 2.eml",
        "Pièce jointe : Niveau 1.eml › Pièce jointe : Niveau 2.eml › Pièce jointe : Niveau 3.eml",
    ]
    assert "Texte du niveau 2." in doc.sections[2].text
    assert "imbriqué trop profondément" in doc.sections[3].text
    assert "Texte du niveau 3." not in doc.text


def test_eml_attachments_share_the_mail_limits() -> None:
    message = _mail()
    message.add_attachment("Petite annexe.", filename="petite.txt")
    message.add_attachment("x" * 4_000, filename="grosse.txt")
    doc = load(message.as_bytes(), "reunion.eml", max_chars=3_000)
    assert doc.sections[1].text == "Petite annexe."
    assert doc.sections[2].heading == "Pièce jointe : grosse.txt"
    assert "non lue" in doc.sections[2].text and "trop de texte" in doc.sections[2].text


def test_eml_attachment_whose_parser_fails_unexpectedly_leaves_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    import rag._spreadsheet

    def broken(data: bytes, **kwargs: object) -> None:
        raise RuntimeError("bogue de l'analyseur")

    monkeypatch.setattr(rag._spreadsheet, "load_xlsx", broken)
    message = _mail()
    message.add_attachment(make_xlsx({"F": [["a", "b"]]}), maintype="application", subtype="zip", filename="t.xlsx")
    message.add_attachment("Annexe lisible.", filename="annexe.txt")
    doc = load(message.as_bytes(), "reunion.eml")
    assert [(s.heading, s.text) for s in doc.sections[1:]] == [
        ("Pièce jointe : t.xlsx", "Pièce jointe « t.xlsx » non lue : fichier illisible."),
        ("Pièce jointe : annexe.txt", "Annexe lisible."),
    ]


def test_eml_without_headers_is_refused() -> None:
    with pytest.raises(CorruptDocumentError, match="courriel valide"):
        load(b"Juste une ligne de texte.\n", "faux.eml")


def test_msg_outlook_message_with_attachments() -> None:
    budget = make_xlsx({"Budget": [["Poste", "Montant"], ["Formation", 1200]]})
    data = make_msg(
        subject="Réunion budget",
        sender=("Alice Martin", "alice.martin@exemple.gouv.fr"),
        to=[("Bruno Petit", "bruno.petit@exemple.gouv.fr")],
        body="Bonjour,\r\nle budget 2026 est voté.",
        sent=datetime(2026, 3, 12, 9, 15, tzinfo=UTC),
        attachments=[("budget.xlsx", budget), ("programme.exe", b"MZ\x90\x00binary")],
    )
    assert data.startswith(OLE2)
    doc = load(data, "reunion.msg")
    assert doc.title == "Réunion budget"
    assert doc.mime == "application/vnd.ms-outlook"
    assert doc.sections[0].text == (
        "De : Alice Martin <alice.martin@exemple.gouv.fr>\n"
        "À : Bruno Petit <bruno.petit@exemple.gouv.fr>\n"
        "Date : 12/03/2026 09:15\n"
        "Objet : Réunion budget\n\n"
        "Bonjour,\nle budget 2026 est voté."
    )
    assert (doc.sections[1].heading, doc.sections[1].page) == ("Pièce jointe : budget.xlsx › Feuille Budget", 1)
    assert doc.sections[1].text == "Ligne 2 — Poste : Formation ; Montant : 1200"
    assert doc.sections[2].heading == "Pièce jointe : programme.exe"
    assert "non lue" in doc.sections[2].text
    # Told apart from legacy Office files by its content, whatever its name.
    assert load(data, "upload-123").mime == "application/vnd.ms-outlook"


def test_msg_attached_message_eight_bit_strings_and_html_body() -> None:
    forwarded = {
        "subject": "Compte rendu du CSA",
        "sender": ("Chloé Durand", "chloe.durand@exemple.gouv.fr"),
        "to": [("Alice Martin", "alice.martin@exemple.gouv.fr")],
        "body": "Le comité s'est réuni le 4 mars.",
        "attachments": [("note.txt", "Décision : télétravail deux jours.".encode())],
    }
    data = make_msg(
        subject="TR: Compte rendu",
        sender=("Élodie Bréhat", "elodie.brehat@exemple.gouv.fr"),
        to=[("Bruno Petit", "bruno.petit@exemple.gouv.fr")],
        body="",
        html="<html><body><h1>Pour suite à donner</h1><p>Voir le message joint.</p></body></html>",
        codepage=1252,
        attachments=[("Compte rendu du CSA", forwarded)],
    )
    doc = load(data, "transfert.msg")
    assert doc.title == "TR: Compte rendu"
    assert doc.sections[0].text.startswith("De : Élodie Bréhat <elodie.brehat@exemple.gouv.fr>\n")
    assert doc.sections[0].text.endswith("Pour suite à donner\n\nVoir le message joint.")
    attached = [section for section in doc.sections[1:] if section.heading == "Pièce jointe : Compte rendu du CSA"]
    assert "Objet : Compte rendu du CSA" in attached[0].text
    assert "Le comité s'est réuni le 4 mars." in attached[0].text
    assert any(
        section.heading == "Pièce jointe : Compte rendu du CSA › Pièce jointe : note.txt"
        and "télétravail deux jours" in section.text
        for section in doc.sections
    )


# --- detection and refusals ------------------------------------------------------------------------------


def test_formats_are_detected_by_content_and_declared_types() -> None:
    expected = {
        "xlsx": make_xlsx({"F": [["a", "b"], ["c", "d"]]}),
        "ods": make_ods({"F": [["a", "b"], ["c", "d"]]}),
        "pptx": make_pptx([{"title": "Titre"}]),
        "odp": make_odp([{"title": "Titre"}]),
    }
    for kind, data in expected.items():
        mime = next(m for m, k in SUPPORTED_MIME_TYPES.items() if k == kind)
        assert load(data, "sans-extension").mime == mime  # by content alone
        assert load(data, "mal-nommé.docx").mime == mime  # the content wins over the name
    assert SUPPORTED_MIME_TYPES["message/rfc822"] == "eml"
    assert SUPPORTED_MIME_TYPES["application/vnd.ms-outlook"] == "msg"
    assert load(_mail().as_bytes(), "upload-7", mime="message/rfc822").title == "Réunion budget"
    assert load(_mail().as_bytes(), "courriel.eml", mime="text/plain").mime == "message/rfc822"


def test_unknown_format_lists_the_new_formats() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"XLSX, ODS, PPTX, ODP.*courriels EML/MSG"):
        load(b"MZ\x90\x00\x03binary", "programme.exe")
    with pytest.raises(UnsupportedFormatError, match="non pris en charge"):
        load(b"pas un vrai classeur", "faux.xlsx")


@pytest.mark.parametrize(
    ("filename", "target"),
    [("ancien.doc", "DOCX ou ODT"), ("ancien.xls", "XLSX ou ODS"), ("ancien.ppt", "PPTX ou ODP")],
)
def test_legacy_office_files_are_still_refused(filename: str, target: str) -> None:
    with pytest.raises(UnsupportedFormatError, match=f"est dans un ancien format Office : enregistrez-le en {target}"):
        load(OLE2 + bytes(600), filename)


def test_ole2_named_msg_without_outlook_streams_and_encrypted_ooxml() -> None:
    with pytest.raises(CorruptDocumentError, match="message Outlook"):
        load(OLE2 + bytes(600), "faux.msg")
    with pytest.raises(CorruptDocumentError, match="message Outlook"):
        load(OLE2 + bytes(600), "upload", mime="application/vnd.ms-outlook")
    for filename in ("chiffre.docx", "chiffre.xlsx", "chiffre.pptx"):
        with pytest.raises(EncryptedDocumentError, match="mot de passe"):
            load(OLE2 + bytes(600), filename)


def test_legacy_word_file_embedding_an_outlook_message_is_not_taken_for_one() -> None:
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()
    writer.addEntry("WordDocument", b"\xec\xa5" + bytes(510))
    writer.addEntry("ObjectPool/_1234/__substg1.0_0037001F", "Message inclus".encode("utf-16-le"))
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(UnsupportedFormatError, match="ancien format Office"):
        load(buffer.getvalue(), "rapport.doc")
    with pytest.raises(CorruptDocumentError, match="message Outlook"):
        load(buffer.getvalue(), "rapport.msg")


def test_encrypted_odf_spreadsheet_and_presentation() -> None:
    manifest = b"<manifest:manifest><manifest:encryption-data/></manifest:manifest>"
    for kind, data in (("ods", make_ods({"F": [["a"]]})), ("odp", make_odp([{"title": "T"}]))):
        with pytest.raises(EncryptedDocumentError, match="mot de passe"):
            load(rezip(data, {"META-INF/manifest.xml": manifest}), f"secret.{kind}")


@pytest.mark.parametrize(
    ("filename", "entries"),
    [
        ("bombe.xlsx", {"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b"\x00" * 30_000_000}),
        ("bombe.pptx", {"[Content_Types].xml": b"<Types/>", "ppt/slides/slide1.xml": b"\x00" * 30_000_000}),
        (
            "bombe.ods",
            {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b" " * 30_000_000},
        ),
        (
            "bombe.odp",
            {"mimetype": b"application/vnd.oasis.opendocument.presentation", "content.xml": b" " * 30_000_000},
        ),
    ],
)
def test_zip_bombs_are_refused_before_parsing(filename: str, entries: dict[str, bytes]) -> None:
    bomb = make_zip(entries)
    assert len(bomb) < 100_000
    with pytest.raises(DocumentTooLargeError, match="anormal"):
        load(bomb, filename)


def test_damaged_office_files_and_empty_files() -> None:
    for filename, kind in (("faux.xlsx", "XLSX"), ("faux.pptx", "PPTX"), ("faux.ods", "ODS"), ("faux.odp", "ODP")):
        with pytest.raises(CorruptDocumentError, match=f"{kind} valide"):
            load(make_zip({"readme.txt": b"hello"}), filename)
    with pytest.raises(CorruptDocumentError, match="XLSX valide"):
        load(make_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<pas du xml"}), "casse.xlsx")
    for filename in ("vide.xlsx", "vide.ods", "vide.pptx", "vide.odp", "vide.eml", "vide.msg"):
        with pytest.raises(EmptyDocumentError, match="est vide"):
            load(b"", filename)


def test_the_product_never_imports_the_gpl_outlook_library() -> None:
    # extract-msg (GPL-3.0) only writes this suite's fixtures; the product reads .msg files with olefile (BSD).
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for package in ("rag", "assistant", "transcription"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                assert not any(name.split(".")[0] == "extract_msg" for name in names), path
