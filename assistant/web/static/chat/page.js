// What every part of the chat page shares: announcements, the error and notice regions, French formats,
// sanitised Markdown and the DSFR dialogs.
export { announce } from "/static/shared/announce.js";
import { announce } from "/static/shared/announce.js";

export const LABEL = "Contenu généré par IA — à vérifier";

const errorBox = document.getElementById("erreur");

const decimal = new Intl.NumberFormat("fr-FR", { maximumSignificantDigits: 2 });
const integer = new Intl.NumberFormat("fr-FR");
const dateTime = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Paris" });

export const formatDecimal = (value) => decimal.format(value);
export const formatInteger = (value) => integer.format(value);

// « 23 novembre 2026 à 17:25 », Paris time, as the server-rendered pages write dates.
export function formatDate(value) {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : dateTime.format(date);
}


// Shows an error (an ApiError or a string) in the page's alert region, with its link when it has one.
export function showError(error) {
  const paragraph = errorBox.querySelector("p");
  paragraph.replaceChildren(typeof error === "string" ? error : error.message);
  // Not `error.link` on a string: String.prototype.link is a legacy method, always there.
  if (typeof error === "object" && error.link) {
    const link = document.createElement("a");
    link.href = error.link.href;
    link.textContent = error.link.text;
    paragraph.append(" ", link);
  }
  errorBox.hidden = false;
}

export function clearError() {
  errorBox.hidden = true;
  errorBox.querySelector("p").replaceChildren();
}

export function renderMarkdown(element, text) {
  // Model output is untrusted: /static/model_output.js renders it with a strict allow-list.
  if (window.renderModelOutput) window.renderModelOutput(element, text);
  else element.textContent = text;
}

// ---- Dialogs (DSFR modals; the native <dialog> when the DSFR is not installed) ----------------------------

const openers = new WeakMap();

function modalApi(dialog) {
  return typeof window.dsfr === "function" ? window.dsfr(dialog)?.modal : null;
}

// Opens a dialog; focus goes back to `opener` (or what had it) when it closes, whatever closed it.
export function openDialog(dialog, opener = document.activeElement) {
  openers.set(dialog, opener);
  const api = modalApi(dialog);
  if (api) api.disclose();
  else if (!dialog.open) dialog.showModal();
  const first = dialog.querySelector("[data-autofocus]");
  if (first) window.setTimeout(() => first.focus(), api ? 350 : 0);
}

export function closeDialog(dialog) {
  const api = modalApi(dialog);
  if (api) api.conceal();
  else if (dialog.open) dialog.close();
}

function restoreFocus(dialog) {
  const opener = openers.get(dialog);
  openers.delete(dialog);
  // Not to a button that the dialog's action removed or hid (e.g. « Supprimer » once the conversation is gone).
  if (opener?.isConnected && opener.getClientRects().length) window.setTimeout(() => opener.focus(), 0);
}

for (const dialog of document.querySelectorAll("dialog.fr-modal")) {
  dialog.addEventListener("dsfr.conceal", () => restoreFocus(dialog));
  dialog.addEventListener("close", () => restoreFocus(dialog));
  // Escape closes every dialog, also those opened from a script (the DSFR only listens for those it opened).
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault();
    closeDialog(dialog);
  });
  // Without the DSFR, its close and cancel buttons (aria-controls) must close the native dialog themselves.
  for (const button of dialog.querySelectorAll(`button[aria-controls="${dialog.id}"]`)) {
    button.addEventListener("click", () => { if (!modalApi(dialog)) closeDialog(dialog); });
  }
}

// Marks a form field in error (DSFR states) with its message, or clears it.
export function fieldError(group, messageNode, text) {
  group.classList.toggle("fr-input-group--error", Boolean(text));
  const field = group.querySelector("input, textarea");
  field?.classList.toggle("fr-input--error", Boolean(text));
  if (text) field?.setAttribute("aria-invalid", "true");
  else field?.removeAttribute("aria-invalid");
  messageNode.textContent = text || "";
  messageNode.hidden = !text;
}
