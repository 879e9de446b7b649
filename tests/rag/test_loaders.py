"""Each loader on documents generated here, and every refusal case."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from rag import LoadedDocument, RapidOcrEngine, load_document
from rag.errors import (
    CorruptDocumentError,
    DocumentError,
    DocumentTooLargeError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedFormatError,
)
from tests.rag.factories import make_docx, make_odt, make_pdf, make_png, make_scanned_pdf, make_zip

LIMITS = {"max_bytes": 5_000_000, "max_pages": 20}


def load(data: bytes, filename: str, **kwargs: object) -> LoadedDocument:
    return load_document(data, filename=filename, **{**LIMITS, **kwargs})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ocr() -> RapidOcrEngine:
    return RapidOcrEngine()


def test_pdf_text_layer_keeps_pages_headings_and_title(font_path: Path) -> None:
    data = make_pdf(
        [
            ("Carte d'identité", "La carte nationale d'identité se demande en mairie, sur rendez-vous."),
            ("Passeport", "Le passeport biométrique coûte 86 euros pour un majeur."),
        ],
        font=font_path,
        title="Guide des démarches",
    )
    doc = load(data, "guide.pdf", enable_ocr=False)
    assert doc.title == "Guide des démarches"
    assert doc.page_count == 2
    assert doc.mime == "application/pdf"
    assert doc.content_hash == hashlib.sha256(data).hexdigest()
    assert [(s.page, s.heading) for s in doc.sections] == [(1, "Carte d'identité"), (2, "Passeport")]
    assert "86 euros" in doc.sections[1].text
    assert "d'identité se demande" in doc.sections[0].text
    assert doc.ocr_pages == ()


@pytest.mark.slow
def test_scanned_pdf_page_is_ocred_with_french_accents(font_path: Path, ocr: RapidOcrEngine) -> None:
    lines = ["La préfecture délivre les cartes d'identité.", "Être à l'écoute : élève, garçon, forêt."]
    doc = load(make_scanned_pdf(lines, font=font_path), "scan.pdf", ocr=ocr)
    assert doc.ocr_pages == (1,)
    text = doc.text
    for word in ("préfecture", "délivre", "identité", "Être", "écoute", "élève", "garçon", "forêt"):
        assert word in text


@pytest.mark.slow
def test_image_is_ocred(font_path: Path, ocr: RapidOcrEngine) -> None:
    doc = load(make_png(["Mairie de Montréal-la-Cluse : état civil"], font=font_path), "affiche.png", ocr=ocr)
    assert doc.sections[0].ocr and doc.sections[0].page == 1
    assert "état civil" in doc.text


def test_scanned_pdf_without_ocr_is_empty(font_path: Path) -> None:
    with pytest.raises(EmptyDocumentError, match="OCR désactivé"):
        load(make_scanned_pdf(["Texte"], font=font_path), "scan.pdf", enable_ocr=False)


def test_docx_headings_tables_and_title() -> None:
    data = make_docx(
        title="Note de service",
        blocks=[
            (1, "Congés"),
            (None, "Les congés annuels sont de 25 jours ouvrés."),
            (2, "Jours RTT"),
            (None, "Les RTT dépendent du cycle horaire."),
        ],
        table=[["Cycle", "RTT"], ["39 h", "23 jours"]],
    )
    doc = load(data, "note.docx")
    assert doc.title == "Note de service"
    assert [s.heading for s in doc.sections] == ["Congés", "Congés › Jours RTT"]
    assert "25 jours ouvrés" in doc.sections[0].text
    assert "39 h | 23 jours" in doc.sections[1].text
    assert all(s.page is None for s in doc.sections)


def test_odt_headings_and_title() -> None:
    data = make_odt(
        title="Règlement intérieur",
        blocks=[
            (1, "Horaires"),
            (None, "Le service ouvre à 8 h 30."),
            (2, "Été"),
            (None, "Fermeture à 16 h."),
        ],
    )
    doc = load(data, "reglement.odt")
    assert doc.title == "Règlement intérieur"
    assert doc.mime == "application/vnd.oasis.opendocument.text"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Horaires", "Le service ouvre à 8 h 30."),
        ("Horaires › Été", "Fermeture à 16 h."),
    ]


def test_html_drops_scripts_and_navigation_and_keeps_headings() -> None:
    html = (
        "<html><head><meta charset='iso-8859-1'><title>Aides sociales</title>"
        "<script>document.write('pirate')</script><style>p{}</style></head><body>"
        "<nav>Accueil | Menu</nav><h1>Aides</h1><p>Le <b>RSA</b> est versé par la CAF.</p>"
        "<h2>Logement</h2><div>L'APL réduit le loyer.<table><tr><td>Zone</td><td>1</td></tr></table></div>"
        "<footer>Mentions légales</footer></body></html>"
    )
    doc = load(html.encode("iso-8859-1"), "aides.html")
    assert doc.title == "Aides sociales"
    assert [s.heading for s in doc.sections] == ["Aides", "Aides › Logement"]
    assert doc.sections[0].text == "Le RSA est versé par la CAF."
    assert doc.sections[1].text == "L'APL réduit le loyer.\nZone | 1"
    assert "pirate" not in doc.text and "Menu" not in doc.text and "Mentions" not in doc.text


def test_markdown_sections_ignore_hashes_in_code() -> None:
    md = "# Guide\n\nIntroduction.\n\n## Étape 1\n\n```\n# pas un titre\n```\nSuite.\n\n## Étape 2\nFin.\n"
    doc = load(md.encode(), "guide.md")
    assert doc.title == "Guide"
    assert [s.heading for s in doc.sections] == ["Guide", "Guide › Étape 1", "Guide › Étape 2"]
    assert "# pas un titre" in doc.sections[1].text


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "utf-16"])
def test_text_charset_detection(encoding: str) -> None:
    text = (
        "Les agents de la préfecture déposent leurs demandes de congés avant le 15 décembre. "
        "Les élèves stagiaires accèdent à la médiathèque. Où s'adresser ? Au secrétariat général."
    )
    doc = load(text.encode(encoding), "note.txt")
    assert doc.text == text
    assert doc.title == "note"


def test_short_legacy_text_prefers_windows_1252() -> None:
    assert load("Élève à l'école, déjà été.".encode("cp1252"), "court.txt").text == "Élève à l'école, déjà été."


def test_mime_type_is_used_when_the_name_has_no_extension() -> None:
    doc = load(b"# Titre\n\nCorps du texte.", "upload-123", mime="text/markdown; charset=utf-8")
    assert doc.sections[0].heading == "Titre"


# --- refusals: each raises a specific DocumentError with a French message ---------------------------


def test_unknown_format() -> None:
    with pytest.raises(UnsupportedFormatError, match="non pris en charge"):
        load(b"MZ\x90\x00\x03binary", "programme.exe")


def test_binary_content_named_txt() -> None:
    with pytest.raises(UnsupportedFormatError, match="binaire"):
        load(bytes(range(256)) * 4, "faux.txt")


def test_corrupt_pdf(font_path: Path) -> None:
    data = make_pdf([("A", "Texte")], font=font_path)
    with pytest.raises(CorruptDocumentError, match="PDF illisible"):
        load(data[: len(data) // 3], "tronque.pdf")


def test_encrypted_pdf() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "secret")
    pdf.set_encryption(owner_password="proprietaire", user_password="utilisateur")
    with pytest.raises(EncryptedDocumentError, match="mot de passe") as info:
        load(bytes(pdf.output()), "protege.pdf")
    assert info.value.filename == "protege.pdf"


def test_encrypted_docx_is_an_ole2_container() -> None:
    with pytest.raises(EncryptedDocumentError):
        load(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "chiffre.docx")
    with pytest.raises(UnsupportedFormatError, match="ancien format"):
        load(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "ancien.doc")


def test_empty_inputs() -> None:
    with pytest.raises(EmptyDocumentError):
        load(b"", "vide.txt")
    with pytest.raises(EmptyDocumentError):
        load(b"  \n\t ", "blanc.md")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(EmptyDocumentError):
        load(bytes(pdf.output()), "page-blanche.pdf")


def test_too_many_bytes_pages_and_pixels(font_path: Path) -> None:
    with pytest.raises(DocumentTooLargeError, match="taille maximale"):
        load_document(b"x" * 2000, filename="gros.txt", max_bytes=1000, max_pages=5)
    pdf = make_pdf([(f"P{i}", f"Page {i}") for i in range(4)], font=font_path)
    with pytest.raises(DocumentTooLargeError, match="trop de pages"):
        load_document(pdf, filename="long.pdf", max_bytes=10**7, max_pages=3)
    image = Image.new("RGB", (3000, 3000), "white")
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    with pytest.raises(DocumentTooLargeError, match="trop grande"):
        load(buffer.getvalue(), "immense.png", max_image_pixels=1_000_000, ocr=_NeverOcr())


def test_zip_bomb_is_refused_before_parsing() -> None:
    bomb = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\x00" * 30_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(DocumentTooLargeError, match="anormal"):
        load(bomb, "bombe.docx")


def test_zip_that_is_not_an_office_document() -> None:
    with pytest.raises(UnsupportedFormatError, match="pas un document bureautique pris en charge"):
        load(make_zip({"photo.jpg": b"jpeg"}), "archive.zip")
    with pytest.raises(CorruptDocumentError, match="DOCX valide"):
        load(make_zip({"readme.txt": b"hello"}), "faux.docx")


def test_too_much_text() -> None:
    with pytest.raises(DocumentTooLargeError, match="trop de texte"):
        load(("mot " * 5000).encode(), "bavard.txt", max_chars=10_000)


def test_every_refusal_is_a_document_error() -> None:
    for cls in (UnsupportedFormatError, CorruptDocumentError, EncryptedDocumentError, EmptyDocumentError):
        assert issubclass(cls, DocumentError)


class _NeverOcr:
    def recognize(self, image: Image.Image) -> str:
        raise AssertionError("the pixel limit must be checked before OCR")
