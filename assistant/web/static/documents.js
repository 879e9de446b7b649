// A collection's page: upload with a real progress bar (XMLHttpRequest), ingestion status refreshed from the API
// until every document is ready or failed, deletion of a document after confirmation, first-upload reminder.
import { announce } from "/static/shared/announce.js";
import { apiFetch } from "/static/shared/http.js";
import { uploadWithProgress } from "/static/shared/upload.js";

(() => {

  const root = document.getElementById("collection");
  if (!root) return;

  const collectionId = root.dataset.collection;
  const canWrite = root.dataset.ecriture === "oui";
  const form = document.getElementById("envoi");
  const fileInput = document.getElementById("fichiers");
  const sendButton = document.getElementById("envoyer");
  const progressBox = document.getElementById("envoi-progression");
  const progressBar = document.getElementById("envoi-barre");
  const progressLabel = document.getElementById("envoi-libelle");
  const progressText = document.getElementById("envoi-pourcentage");
  const rows = document.getElementById("documents");
  const emptyState = document.getElementById("documents-vide");
  const errorBox = document.getElementById("erreur");
  const reminder = document.getElementById("rappel");
  const deletion = document.getElementById("suppression-document");

  // Remembered per browser: the reminder is shown before a user's first upload, then not again.
  const REMINDER_KEY = "souverain.rappel-premier-envoi.documents";
  // Polling counts against the user's requests per minute: quick at first, then slower while a long document
  // (a scanned PDF read by OCR) is still being indexed.
  const POLL_FIRST_MS = 1000;
  const POLL_MAX_MS = 10000;
  const STATUSES = { queued: "En attente", processing: "En cours", ready: "Prêt", failed: "Échec" };
  const BADGES = { queued: "fr-badge--new", processing: "fr-badge--info", ready: "fr-badge--success", failed: "fr-badge--error" };
  const integer = new Intl.NumberFormat("fr-FR");
  const decimal = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  const dateFormat = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short", timeZone: "Europe/Paris" });
  let pollTimer = null;
  let pollDelay = POLL_FIRST_MS;
  let pendingDeletion = null;

  // ---- Helpers -------------------------------------------------------------------------------------------


  function showError(message) {
    errorBox.querySelector("p").textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.querySelector("p").textContent = "";
  }

  function size(bytes) {
    if (bytes < 1024) return `${integer.format(bytes)}\u00a0octets`;
    let value = bytes / 1024;
    for (const unit of ["Ko", "Mo", "Go"]) {
      if (value < 1024 || unit === "Go") return `${decimal.format(value)}\u00a0${unit}`;
      value /= 1024;
    }
    return "";
  }

  function messageOf(status, body) {
    if (status === 401) return "Votre session a expiré : reconnectez-vous, puis renvoyez vos fichiers.";
    if (body?.error?.message) return body.error.message;
    if (status === 413) return "Envoi trop volumineux : envoyez moins de fichiers à la fois, ou des fichiers plus petits.";
    return `Le service a répondu par une erreur (${status}). Réessayez dans un instant.`;
  }

  async function api(method, url) {
    const response = await apiFetch(url, { method });
    let body = null;
    if (response.status !== 204) {
      try { body = await response.json(); } catch (_) { body = null; }
    }
    if (!response.ok) throw new Error(messageOf(response.status, body));
    return body;
  }

  // ---- The documents table -------------------------------------------------------------------------------

  function cell(tag, text) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function statusCell(doc) {
    const td = cell("td");
    const badge = cell("p", STATUSES[doc.status] || doc.status);
    badge.className = `fr-badge fr-badge--sm ${BADGES[doc.status] || ""}`;
    if (doc.status === "processing") badge.textContent += ` (${Math.round(doc.progress * 100)} %)`;
    td.append(badge);
    if (doc.status === "failed" && doc.error) {
      const reason = cell("p", doc.error);
      reason.className = "fr-text--xs fr-mb-0 sv-failure";
      td.append(reason);
    }
    return td;
  }

  function row(doc) {
    const tr = document.createElement("tr");
    tr.dataset.document = doc.id;
    tr.dataset.statut = doc.status;
    const name = cell("th", doc.filename);
    name.scope = "row";
    tr.append(
      name,
      statusCell(doc),
      cell("td", size(doc.size_bytes)),
      cell("td", doc.pages == null ? "—" : integer.format(doc.pages)),
      cell("td", integer.format(doc.chunk_count)),
      cell("td", dateFormat.format(new Date(doc.created_at))),
    );
    if (canWrite) {
      const td = cell("td");
      const button = cell("button", "Supprimer");
      button.type = "button";
      button.className = "fr-btn fr-btn--tertiary-no-outline fr-btn--sm fr-icon-delete-line fr-btn--icon-left";
      button.dataset.supprimer = doc.id;
      button.dataset.nom = doc.filename;
      const hidden = cell("span", ` ${doc.filename}`);
      hidden.className = "fr-sr-only";
      button.append(hidden);
      td.append(button);
      tr.append(td);
    }
    return tr;
  }

  function render(documents) {
    // Keep the focused delete button focused across a refresh (keyboard users mid-table).
    const focusedId = document.activeElement?.dataset?.supprimer;
    rows.replaceChildren(...documents.map(row));
    emptyState.hidden = documents.length > 0;
    if (focusedId) rows.querySelector(`[data-supprimer="${CSS.escape(focusedId)}"]`)?.focus();
  }

  function statusesOf() {
    return new Map([...rows.querySelectorAll("tr[data-document]")].map((tr) => [tr.dataset.document, tr.dataset.statut]));
  }

  function announceChanges(before, documents) {
    for (const doc of documents) {
      const previous = before.get(doc.id);
      if (previous === doc.status || (doc.status !== "ready" && doc.status !== "failed")) continue;
      announce(doc.status === "ready" ? `« ${doc.filename} » est prêt.` : `Échec de « ${doc.filename} » : ${doc.error || "raison inconnue"}`);
    }
  }

  async function refresh() {
    window.clearTimeout(pollTimer);
    let documents;
    try {
      documents = await api("GET", `/api/collections/${collectionId}/documents`);
    } catch (error) {
      showError(error.message);
      return;
    }
    const before = statusesOf();
    render(documents);
    announceChanges(before, documents);
    if (documents.some((doc) => doc.status === "queued" || doc.status === "processing")) {
      pollTimer = window.setTimeout(refresh, pollDelay);
      pollDelay = Math.min(pollDelay * 1.5, POLL_MAX_MS);
    } else {
      pollDelay = POLL_FIRST_MS;
    }
  }

  // ---- Upload --------------------------------------------------------------------------------------------

  function setProgress(percent, label) {
    progressBox.hidden = false;
    progressBar.value = percent;
    progressBar.setAttribute("aria-valuetext", `${percent} %`);
    progressText.textContent = `${percent} %`;
    if (label) progressLabel.textContent = label;
  }

  function upload(files) {
    clearError();
    const body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    sendButton.disabled = true;
    setProgress(0, files.length > 1 ? `Envoi de ${files.length} fichiers` : `Envoi de « ${files[0].name} »`);
    announce("Envoi en cours…");
    const sending = uploadWithProgress(`/api/collections/${collectionId}/documents`, body, {
      onProgress: (loaded, total) => setProgress(Math.round((loaded / total) * 100)),
    });
    sending.done.then(({ outcome, status, response }) => {
      sendButton.disabled = false;
      if (outcome !== "load") {
        progressBox.hidden = true;
        showError("La connexion au service a été interrompue pendant l'envoi. Réessayez.");
      } else if (status === 202) {
        setProgress(100, "Envoi terminé");
        const sent = response.documents;
        const duplicates = sent.filter((doc) => doc.duplicate).length;
        const failed = sent.filter((doc) => doc.status === "failed").length;
        let message = `${sent.length} fichier(s) reçu(s), indexation en cours.`;
        if (duplicates) message += ` ${duplicates} déjà présent(s) dans la collection.`;
        if (failed) message += ` ${failed} refusé(s) : voir la raison dans le tableau.`;
        announce(message);
        form.reset();
        pollDelay = POLL_FIRST_MS;
        refresh();
      } else {
        progressBox.hidden = true;
        showError(messageOf(status, response));
        announce("L'envoi a été refusé.");
      }
    });
  }

  function remindedAlready() {
    try { return window.localStorage.getItem(REMINDER_KEY) === "vu"; } catch (_) { return false; }
  }

  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const files = [...fileInput.files];
    if (!files.length) {
      showError("Choisissez au moins un fichier à envoyer.");
      fileInput.focus();
      return;
    }
    if (remindedAlready()) {
      upload(files);
    } else {
      reminder.returnValue = "";
      reminder.showModal();
    }
  });

  reminder?.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-rappel]")?.dataset.rappel;
    if (!choice) return;
    reminder.close(choice);
  });
  reminder?.addEventListener("close", () => {
    if (reminder.returnValue === "compris") {
      try { window.localStorage.setItem(REMINDER_KEY, "vu"); } catch (_) { /* private mode: shown again next time */ }
      upload([...fileInput.files]);
    }
    sendButton.focus();
  });

  // ---- Deletion ------------------------------------------------------------------------------------------

  rows.addEventListener("click", (event) => {
    const button = event.target.closest("[data-supprimer]");
    if (!button) return;
    pendingDeletion = { id: button.dataset.supprimer, name: button.dataset.nom, button };
    document.getElementById("suppression-document-nom").textContent = button.dataset.nom;
    deletion.returnValue = "";
    deletion.showModal();
  });
  deletion?.addEventListener("click", (event) => {
    const choice = event.target.closest("[data-suppression]")?.dataset.suppression;
    if (choice) deletion.close(choice);
  });
  deletion?.addEventListener("close", async () => {
    const target = pendingDeletion;
    pendingDeletion = null;
    if (!target) return;
    if (deletion.returnValue !== "confirmer") {
      if (target.button.isConnected) target.button.focus();
      return;
    }
    clearError();
    try {
      await api("DELETE", `/api/documents/${target.id}`);
      announce(`« ${target.name} » a été supprimé.`);
    } catch (error) {
      showError(error.message);
    }
    await refresh();
    (rows.querySelector("[data-supprimer]") || document.getElementById("documents-titre")).focus?.();
  });

  // ---- Search ----------------------------------------------------------------------------------------------

  const searchForm = document.getElementById("recherche");
  const passages = document.getElementById("passages");

  function renderPassages(found) {
    const title = cell("h3", found.length ? `${found.length} passage(s) trouvé(s)` : "Aucun passage trouvé");
    title.className = "fr-h6";
    title.tabIndex = -1;
    const list = document.createElement("ol");
    list.className = "sv-passages";
    for (const passage of found) {
      // Document text is data: textContent only, never parsed as HTML.
      const item = document.createElement("li");
      const where = [passage.filename];
      if (passage.page != null) where.push(`page ${integer.format(passage.page)}`);
      if (passage.section) where.push(passage.section);
      const source = cell("p", where.join(" — "));
      source.className = "fr-text--bold fr-mb-1v";
      const quote = cell("blockquote", passage.text);
      quote.className = "sv-passage";
      item.append(source, quote);
      list.append(item);
    }
    passages.replaceChildren(title, ...(found.length ? [list] : []));
    title.focus();
  }

  searchForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = document.getElementById("question").value.trim();
    if (!query) return;
    clearError();
    try {
      const response = await apiFetch("/api/search", {
        method: "POST",
        json: { query, collection_ids: [collectionId], k: 5 },
      });
      let body = null;
      try { body = await response.json(); } catch (_) { body = null; }
      if (!response.ok) throw new Error(messageOf(response.status, body));
      renderPassages(body.passages);
    } catch (error) {
      showError(error.message);
    }
  });

  // Statuses may have moved since the page was rendered: follow them until every document is settled.
  if ([...statusesOf().values()].some((status) => status === "queued" || status === "processing")) refresh();
})();
