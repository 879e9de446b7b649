// Model output is untrusted: the Markdown it writes is rendered with a strict allow-list of tags and attributes.
// No class, style, id, role, data-* or aria-* attribute survives, so an injected answer cannot draw the page's own
// components (a « Relu et validé » badge, a fake notice); no image (nothing fetched on the reader's behalf), and
// links only to http(s) and mailto. Without the libraries, the text is shown as it is.
(function () {
  "use strict";

  const ALLOWED = {
    ALLOWED_TAGS: [
      "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
      "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a",
    ],
    ALLOWED_ATTR: ["href", "start"],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  };

  function renderModelOutput(element, text) {
    if (!(window.marked && window.DOMPurify)) {
      element.textContent = text;
      return;
    }
    element.innerHTML = window.DOMPurify.sanitize(window.marked.parse(text, { gfm: true, breaks: true }), ALLOWED);
    for (const link of element.querySelectorAll("a[href]")) {
      link.setAttribute("rel", "noopener noreferrer");
      link.setAttribute("target", "_blank");
      link.setAttribute("title", `${link.textContent} — nouvelle fenêtre`);
    }
  }

  window.renderModelOutput = renderModelOutput;
})();
