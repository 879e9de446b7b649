// « Transcriptions »: upload a recording (real upload progress), follow each job (SSE), cancel, delete.
// Everything goes through the JSON API with the session cookie and the anti-CSRF header.
import { announce } from "/static/shared/announce.js";
import { apiFetch } from "/static/shared/http.js";
import { uploadWithProgress } from "/static/shared/upload.js";

(() => {

  const root = document.getElementById("transcriptions");
  if (!root) return;

  const LANGUAGES = JSON.parse(root.dataset.languages || "{}");
  const STATUSES = JSON.parse(root.dataset.statuses || "{}");
  const MAX_BYTES = Number(root.dataset.maxBytes || 0);
  const REMINDER_KEY = "souverain.transcriptions.rappel-lu";
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
  const MAX_STREAMS = 3; // browsers allow ~6 connections per site: keep some for the page's other requests

  const form = document.getElementById("depot");
  const fileInput = document.getElementById("fichier");
  const fileError = document.getElementById("fichier-erreur");
  const titleInput = document.getElementById("titre");
  const languageSelect = document.getElementById("langue");
  const diarizeBox = document.getElementById("intervenants");
  const speakersInput = document.getElementById("nombre");
  const speakersError = document.getElementById("nombre-erreur");
  const keepBox = document.getElementById("conserver");
  const submitButton = document.getElementById("deposer");
  const abortButton = document.getElementById("annuler-envoi");
  const uploadBox = document.getElementById("envoi");
  const uploadBar = document.getElementById("envoi-barre");
  const uploadText = document.getElementById("envoi-texte");
  const uploadError = document.getElementById("depot-erreur");
  const table = document.getElementById("liste");
  const emptyState = document.getElementById("liste-vide");
  const rows = document.getElementById("lignes");
  const rowTemplate = document.getElementById("gabarit-ligne");
  const listHeading = document.getElementById("liste-titre");
  const reminder = document.getElementById("rappel");
  const reminderOk = document.getElementById("rappel-ok");
  const deleteDialog = document.getElementById("confirmer-suppression");
  const deleteName = document.getElementById("suppression-nom");
  const deleteError = document.getElementById("suppression-erreur");
  const deleteOk = document.getElementById("suppression-ok");

  const sizes = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1 });
  const dates = new Intl.DateTimeFormat("fr-FR", {
    day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Europe/Paris",
  });
  const followed = new Map(); // transcription id -> EventSource or interval id
  let upload = null;
  let pendingDelete = null;
  let focusAfterClose = null;

  // ---- Helpers -------------------------------------------------------------------------------------------


  function showAlert(box, message) {
    box.querySelector("p").textContent = message;
    box.hidden = false;
  }

  function hideAlert(box) {
    box.hidden = true;
    box.querySelector("p").textContent = "";
  }

  function messageOf(status, body) {
    if (status === 401) return "Votre session a expiré : reconnectez-vous, puis recommencez.";
    if (body?.error?.message) return body.error.message;
    if (status === 0) return "Le service est injoignable. Vérifiez votre connexion, puis réessayez.";
    return `Le service a répondu par une erreur (${status}). Réessayez dans un instant.`;
  }

  async function errorMessage(response) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    return messageOf(response.status, body);
  }

  function megabytes(bytes) {
    return `${sizes.format(bytes / (1024 * 1024))} Mo`;
  }

  function duration(seconds) {
    if (typeof seconds !== "number") return "—";
    const whole = Math.max(0, Math.round(seconds));
    const pad = (value) => String(value).padStart(2, "0");
    return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
  }

  function languageOf(view) {
    if (view.language) return LANGUAGES[view.language] || view.language;
    if (view.detected_language) return `${LANGUAGES[view.detected_language] || view.detected_language} (détectée)`;
    return "automatique";
  }

  function api(path, options = {}) {
    return apiFetch(path, { ...options });
  }

  // The DSFR opens and closes its modals from buttons that name them (aria-controls); scripts use its API.
  // Without the DSFR (assets not installed) the native <dialog> does the same job.
  function openModal(dialog) {
    if (window.dsfr) window.dsfr(dialog).modal.disclose();
    else dialog.showModal();
  }

  function closeModal(dialog) {
    if (window.dsfr) window.dsfr(dialog).modal.conceal();
    else {
      dialog.close();
      restoreFocus();
    }
  }

  function restoreFocus() {
    if (focusAfterClose) {
      const target = focusAfterClose;
      focusAfterClose = null;
      target.focus();
    }
  }

  document.addEventListener("click", (event) => {
    if (window.dsfr) return;
    const button = event.target.closest("button[aria-controls]");
    const dialog = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!(dialog instanceof HTMLDialogElement)) return;
    if (dialog.contains(button)) closeModal(dialog);
    else dialog.showModal();
  });
  for (const dialog of [reminder, deleteDialog]) {
    // After the DSFR has put the focus back on the opener: a removed opener needs another target.
    dialog.addEventListener("dsfr.conceal", () => window.setTimeout(restoreFocus, 0));
  }

  // ---- Rows ----------------------------------------------------------------------------------------------

  function rowOf(id) {
    return rows.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  }

  function part(row, role) {
    return row.querySelector(`[data-role="${role}"]`);
  }

  // The job's state: status badge, progress bar and message, error, whether it can still be cancelled.
  function updateState(row, view) {
    const [label, variant] = STATUSES[view.status] || [view.status, "info"];
    const over = FINISHED.has(view.status);
    row.dataset.status = view.status;
    const badge = part(row, "badge");
    badge.className = `fr-badge fr-badge--sm fr-badge--${variant}`;
    badge.textContent = label;
    const percent = Math.round((view.progress || 0) * 100);
    const tracker = part(row, "suivi");
    tracker.hidden = over;
    tracker.querySelector("progress").value = percent;
    tracker.querySelector("progress").setAttribute("aria-label", `Progression de « ${row.dataset.title} »`);
    part(row, "message").textContent = `${percent} %${view.progress_message ? ` — ${view.progress_message}` : ""}`;
    let error = part(row, "erreur");
    if (view.status === "failed" && view.error) {
      if (!error) {
        error = document.createElement("p");
        error.className = "fr-text--xs fr-mb-0 sv-error";
        error.dataset.role = "erreur";
        part(row, "etat").append(error);
      }
      error.textContent = view.error;
    } else {
      error?.remove();
    }
    row.querySelector('[data-action="annuler"]').hidden = over;
  }

  function updateRow(row, view) {
    row.dataset.title = view.title;
    updateState(row, view);
    part(row, "duree").textContent = duration(view.duration_seconds);
    part(row, "langue").textContent = languageOf(view);
  }

  function addRow(view) {
    const row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.id = view.id;
    const link = part(row, "titre");
    link.href = `/transcriptions/${view.id}`;
    link.textContent = view.title;
    part(row, "date").textContent = dates.format(new Date(view.created_at));
    for (const hidden of row.querySelectorAll("button .fr-sr-only")) hidden.textContent = ` « ${view.title} »`;
    updateRow(row, view);
    rows.prepend(row);
    table.hidden = false;
    emptyState.hidden = true;
    return row;
  }

  function removeRow(row) {
    stopFollowing(row.dataset.id);
    row.remove();
    if (!rows.querySelector("tr")) {
      table.hidden = true;
      emptyState.hidden = false;
    }
  }

  // ---- Following jobs ------------------------------------------------------------------------------------

  function stopFollowing(id) {
    const follower = followed.get(id);
    if (follower instanceof EventSource) follower.close();
    else if (follower !== undefined) window.clearInterval(follower);
    followed.delete(id);
  }

  async function refresh(id) {
    const response = await api(`/api/transcriptions/${id}`);
    const row = rowOf(id);
    if (!row) return null;
    if (response.status === 404) {
      removeRow(row);
      return null;
    }
    if (!response.ok) return null;
    const view = await response.json();
    updateRow(row, view);
    return view;
  }

  function finished(id, view) {
    stopFollowing(id);
    if (!view) return;
    if (view.status === "succeeded") announce(`Transcription « ${view.title} » terminée.`);
    else if (view.status === "failed") announce(`La transcription « ${view.title} » a échoué : ${view.error || "erreur inconnue"}.`);
    else if (view.status === "cancelled") announce(`Transcription « ${view.title} » annulée.`);
  }

  function poll(id) {
    const timer = window.setInterval(async () => {
      const view = await refresh(id).catch(() => null);
      if (!rowOf(id)) stopFollowing(id);
      else if (view && FINISHED.has(view.status)) finished(id, view);
    }, 2000);
    followed.set(id, timer);
  }

  function follow(id) {
    if (followed.has(id)) return;
    const streams = [...followed.values()].filter((f) => f instanceof EventSource).length;
    if (streams >= MAX_STREAMS || !window.EventSource) {
      poll(id);
      return;
    }
    const source = new EventSource(`/api/transcriptions/${id}/events`);
    followed.set(id, source);
    source.addEventListener("progress", (event) => {
      const row = rowOf(id);
      if (!row) return;
      const data = JSON.parse(event.data);
      updateState(row, { status: data.status, progress: data.progress, progress_message: data.message });
    });
    source.addEventListener("done", async () => {
      source.close();
      finished(id, await refresh(id).catch(() => null));
    });
    source.addEventListener("error", () => {
      // The stream broke (server restart, network) or the job vanished: polling takes over until it ends.
      if (followed.get(id) !== source) return;
      source.close();
      followed.delete(id);
      poll(id);
    });
  }

  // ---- Upload --------------------------------------------------------------------------------------------

  function checkForm() {
    let valid = true;
    const file = fileInput.files[0];
    let fileMessage = "";
    if (!file) fileMessage = "Choisissez un enregistrement audio ou vidéo.";
    else if (file.size === 0) fileMessage = "Ce fichier est vide.";
    else if (MAX_BYTES && file.size > MAX_BYTES) {
      fileMessage = `Fichier trop volumineux (${megabytes(file.size)}) : la limite est de ${megabytes(MAX_BYTES)}.`;
    }
    setFieldError(fileInput, fileError, "fichier-groupe", "fr-upload-group--error", fileMessage);
    if (fileMessage) valid = false;
    let speakersMessage = "";
    if (diarizeBox.checked && speakersInput.value !== "") {
      const count = Number(speakersInput.value);
      if (!Number.isInteger(count) || count < 1 || count > 8) speakersMessage = "Indiquez un nombre entier de 1 à 8, ou laissez vide.";
    }
    setFieldError(speakersInput, speakersError, "nombre-groupe", "fr-input-group--error", speakersMessage);
    if (speakersMessage) valid = false;
    if (!valid) (fileMessage ? fileInput : speakersInput).focus();
    return valid;
  }

  function setFieldError(input, errorNode, groupId, errorClass, message) {
    errorNode.textContent = message;
    errorNode.hidden = !message;
    document.getElementById(groupId).classList.toggle(errorClass, Boolean(message));
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function formData() {
    const data = new FormData();
    data.append("file", fileInput.files[0]);
    if (titleInput.value.trim()) data.append("title", titleInput.value.trim());
    data.append("language", languageSelect.value);
    data.append("diarize", diarizeBox.checked ? "true" : "false");
    if (diarizeBox.checked && speakersInput.value !== "") data.append("num_speakers", speakersInput.value);
    data.append("keep_audio", keepBox.checked ? "true" : "false");
    const publicBox = document.getElementById("public");  // only when the transcription server is not sovereign
    if (publicBox && publicBox.checked) data.append("sensitivity", "public");
    return data;
  }

  function setUploading(uploading) {
    // aria-disabled rather than disabled: the focus stays on the button while the file is sent.
    if (uploading) submitButton.setAttribute("aria-disabled", "true");
    else submitButton.removeAttribute("aria-disabled");
    abortButton.hidden = !uploading;
    for (const field of [fileInput, titleInput, languageSelect, keepBox]) field.disabled = uploading;
    diarizeBox.disabled = uploading || diarizeBox.dataset.unavailable === "oui";
    speakersInput.disabled = uploading || !diarizeBox.checked;
  }

  function showUploadProgress(loaded, total) {
    const percent = total ? Math.round((loaded / total) * 100) : 0;
    uploadBar.value = percent;
    uploadText.textContent = loaded >= total
      ? "Fichier envoyé : vérification de l'enregistrement…"
      : `${percent} % — ${megabytes(loaded)} sur ${megabytes(total)}`;
  }

  function startUpload() {
    hideAlert(uploadError);
    const file = fileInput.files[0];
    uploadBox.hidden = false;
    showUploadProgress(0, file.size);
    setUploading(true);
    announce(`Envoi de « ${file.name} » en cours.`);
    upload = uploadWithProgress("/api/transcriptions", formData(), { onProgress: showUploadProgress });
    upload.done.then(({ outcome, status, response }) => {
      upload = null;
      setUploading(false);
      uploadBox.hidden = true;
      if (outcome === "abort") {
        announce("Envoi annulé.");
        submitButton.focus();
        return;
      }
      if (outcome === "error") {
        showAlert(uploadError, messageOf(0, null));
        return;
      }
      if (status === 202 && response?.id) {
        const view = response;
        addRow(view);
        follow(view.id);
        form.reset();
        diarizeBox.dispatchEvent(new Event("change"));
        announce(`Fichier reçu. La transcription de « ${view.title} » est en file d'attente ; sa progression s'affiche dans la liste.`);
        return;
      }
      showAlert(uploadError, messageOf(status, response));
      announce("Le fichier n'a pas été accepté.");
      fileInput.focus();
    });
  }

  function reminderSeen() {
    try {
      return window.localStorage.getItem(REMINDER_KEY) === "oui";
    } catch (_) {
      return false; // storage refused (private browsing): show the reminder each time rather than never
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (upload || !checkForm()) return;
    if (reminderSeen()) startUpload();
    else {
      focusAfterClose = submitButton;
      openModal(reminder);
    }
  });
  reminderOk.addEventListener("click", () => {
    try {
      window.localStorage.setItem(REMINDER_KEY, "oui");
    } catch (_) { /* shown again next time */ }
    focusAfterClose = submitButton;
    closeModal(reminder);
    startUpload();
  });
  abortButton.addEventListener("click", () => upload?.abort());
  diarizeBox.dataset.unavailable = diarizeBox.disabled ? "oui" : "non";
  diarizeBox.addEventListener("change", () => {
    speakersInput.disabled = !diarizeBox.checked;
    document.getElementById("nombre-groupe").classList.toggle("fr-input-group--disabled", !diarizeBox.checked);
    if (!diarizeBox.checked) speakersInput.value = "";
  });
  document.getElementById("nombre-groupe").classList.add("fr-input-group--disabled");

  // ---- Cancel and delete ---------------------------------------------------------------------------------

  async function cancel(row, button) {
    button.disabled = true;
    const response = await api(`/api/transcriptions/${row.dataset.id}/cancel`, { method: "POST" }).catch(() => null);
    button.disabled = false;
    if (response?.ok) {
      const view = await response.json();
      updateRow(row, view);
      finished(row.dataset.id, view);
      row.querySelector('[data-action="supprimer"]').focus();
      return;
    }
    const message = response ? await errorMessage(response) : messageOf(0, null);
    await refresh(row.dataset.id).catch(() => null);
    announce(message);
  }

  rows.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    if (button.dataset.action === "annuler") cancel(row, button);
    else if (button.dataset.action === "supprimer") {
      pendingDelete = row;
      deleteName.textContent = row.dataset.title;
      hideAlert(deleteError);
    }
  });

  deleteOk.addEventListener("click", async () => {
    const row = pendingDelete;
    if (!row) return;
    deleteOk.disabled = true;
    const response = await api(`/api/transcriptions/${row.dataset.id}`, { method: "DELETE" }).catch(() => null);
    deleteOk.disabled = false;
    if (response && (response.status === 204 || response.status === 404)) {
      pendingDelete = null;
      const title = row.dataset.title;
      removeRow(row);
      listHeading.setAttribute("tabindex", "-1");
      focusAfterClose = listHeading;
      closeModal(deleteDialog);
      announce(`Transcription « ${title} » supprimée.`);
      return;
    }
    showAlert(deleteError, response ? await errorMessage(response) : messageOf(0, null));
  });

  // ---- Start ---------------------------------------------------------------------------------------------

  for (const row of rows.querySelectorAll("tr[data-id]")) {
    if (!FINISHED.has(row.dataset.status)) follow(row.dataset.id);
  }
})();
