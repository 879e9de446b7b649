"""L1 — model output is rendered with a strict allow-list: an injected answer cannot draw the page's components.

Before: DOMPurify's defaults kept ``class``, ``data-*`` and ``aria-*``, so an answer could render a real-looking
DSFR « Relu et validé » badge or a fake notice next to the AI label. Checked in a real browser, with the very
function the chat and task pages call.
"""

from __future__ import annotations

from playwright.sync_api import Page

INJECTED = (
    "**Réponse** conforme.\n\n"
    '<p class="fr-badge fr-badge--success" data-review="ok" aria-label="Relu et validé" style="color: green" '
    'id="relecture" role="status">Relu et validé par le service juridique</p>\n\n'
    '<img src="https://exfiltration.example/x.png" onerror="alert(1)">\n\n'
    '[piège](javascript:alert(1)) et [la note](https://service.gouv.fr/note) ou <a href="data:text/html,x">ici</a>\n\n'
    "| Colonne |\n|---|\n| `valeur` |\n"
)

_RENDER = """(text) => {
  const element = document.createElement("div");
  window.renderModelOutput(element, text);
  return element.innerHTML;
}"""


def _rendered(page: Page) -> str:
    page.wait_for_function("() => window.renderModelOutput && window.marked && window.DOMPurify")
    html: str = page.evaluate(_RENDER, INJECTED)
    return html


def _check(html: str) -> None:
    for forbidden in ("class=", "data-", "aria-", "style=", "id=", "role=", "<img", "onerror", "javascript:", "data:"):
        assert forbidden not in html, (forbidden, html)
    assert "<strong>Réponse</strong>" in html
    assert "Relu et validé par le service juridique" in html, "the words stay, as plain text"
    assert '<a href="https://service.gouv.fr/note" rel="noopener noreferrer" target="_blank"' in html
    assert "<table>" in html and "<code>valeur</code>" in html


def test_the_chat_renders_model_output_with_the_allow_list(page: Page) -> None:
    _check(_rendered(page))


def test_the_task_page_renders_model_output_with_the_allow_list(page: Page) -> None:
    page.goto("/taches")
    _check(_rendered(page))
