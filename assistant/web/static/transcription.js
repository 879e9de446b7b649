// One transcription: follow its job (SSE), then the labelled transcript with speakers and times, the audio player
// kept in step with it, corrections (rename a speaker, fix a passage), and the minutes.
import { announce } from "/static/shared/announce.js";
import { apiFetch } from "/static/shared/http.js";

(() => {

  const root = document.getElementById("transcription");
  if (!root) return;

  const id = root.dataset.id;
  const base = `/api/transcriptions/${id}`;
  const STATUSES = JSON.parse(root.dataset.statuses || "{}");
  const LANGUAGES = JSON.parse(root.dataset.languages || "{}");
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);

  const statusBadge = document.getElementById("etat");
  const tracker = document.getElementById("suivi");
  const trackerBar = document.getElementById("suivi-barre");
  const trackerText = document.getElementById("suivi-texte");
  const cancelButton = document.getElementById("annuler");
  const failure = document.getElementById("echec");
  const failureTitle = document.getElementById("echec-titre");
  const failureText = document.getElementById("echec-texte");
  const errorBox = document.getElementById("erreur");
  const result = document.getElementById("resultat");
  const reviewBadge = document.getElementById("relecture");
  const provenanceLine = document.getElementById("provenance");
  const player = document.getElementById("lecteur");
  const speakersSection = document.getElementById("intervenants");
  const speakersList = document.getElementById("intervenants-liste");
  const segmentsList = document.getElementById("segments");
  const languageFact = document.getElementById("fait-langue");
  const minutesContent = document.getElementById("cr-contenu");
  const minutesAbsent = document.getElementById("cr-absent");
  const minutesForm = document.getElementById("cr-formulaire");
  const minutesModel = document.getElementById("cr-modele");
  const minutesButton = document.getElementById("cr-rediger");
  const minutesWaiting = document.getElementById("cr-attente");
  const deleteDialog = document.getElementById("confirmer-suppression");
  const deleteName = document.getElementById("suppression-nom");
  const deleteError = document.getElementById("suppression-erreur");
  const deleteOk = document.getElementById("suppression-ok");

  const LABEL = "Contenu généré par IA — à vérifier";
  const dates = new Intl.DateTimeFormat("fr-FR", {
    day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Europe/Paris",
  });
  let transcript = null;
  let current = -1;

  // ---- Helpers -------------------------------------------------------------------------------------------


  function showError(message) {
    errorBox.querySelector("p").textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.querySelector("p").textContent = "";
  }

  async function errorMessage(response) {
    if (!response) return "Le service est injoignable. Vérifiez votre connexion, puis réessayez.";
    if (response.status === 401) return "Votre session a expiré : reconnectez-vous, puis recommencez.";
    try {
      const body = await response.json();
      if (body?.error?.message) return body.error.message;
    } catch (_) { /* not JSON */ }
    return `Le service a répondu par une erreur (${response.status}). Réessayez dans un instant.`;
  }

  function api(path, options = {}) {
    return apiFetch(path, { ...options }).catch(() => null);  // null: the service could not be reached
  }

  function clock(seconds) {
    const whole = Math.max(0, Math.floor(seconds || 0));
    const pad = (value) => String(value).padStart(2, "0");
    return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
  }

  function when(iso) {
    return iso ? dates.format(new Date(iso)) : "";
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fillList(list, items, empty) {
    list.replaceChildren(...(items.length ? items : [empty]).map((item) => element("li", "", item)));
  }

  // ---- Job -----------------------------------------------------------------------------------------------

  function showStatus(status, progress, message, error) {
    const [label, variant] = STATUSES[status] || [status, "info"];
    root.dataset.status = status;
    statusBadge.className = `fr-badge fr-badge--sm fr-badge--${variant}`;
    statusBadge.textContent = label;
    const percent = Math.round((progress || 0) * 100);
    trackerBar.value = percent;
    trackerText.textContent = `${percent} %${message ? ` — ${message}` : ""}`;
    tracker.hidden = FINISHED.has(status);
    if (status === "failed" || status === "cancelled") {
      failureTitle.textContent = status === "cancelled" ? "Transcription annulée" : "La transcription a échoué";
      failureText.textContent = error || (status === "cancelled" ? "La transcription a été arrêtée avant la fin." : "");
      failure.hidden = false;
    }
  }

  async function jobEnded() {
    const response = await api(base);
    if (!response?.ok) {
      showError(await errorMessage(response));
      return;
    }
    const view = await response.json();
    showStatus(view.status, view.progress, view.progress_message, view.error);
    if (view.status === "succeeded") {
      await showResult();
      announce(`Transcription terminée. ${LABEL}.`);
      document.getElementById("texte-titre").setAttribute("tabindex", "-1");
    } else {
      announce(view.status === "cancelled" ? "Transcription annulée." : `La transcription a échoué : ${view.error || ""}`);
    }
  }

  function follow() {
    if (!window.EventSource) {
      const timer = window.setInterval(async () => {
        const response = await api(base);
        if (!response?.ok) return;
        const view = await response.json();
        showStatus(view.status, view.progress, view.progress_message, view.error);
        if (FINISHED.has(view.status)) {
          window.clearInterval(timer);
          jobEnded();
        }
      }, 2000);
      return;
    }
    const source = new EventSource(`${base}/events`);
    source.addEventListener("progress", (event) => {
      const data = JSON.parse(event.data);
      showStatus(data.status, data.progress, data.message, null);
    });
    source.addEventListener("done", () => {
      source.close();
      jobEnded();
    });
    source.addEventListener("error", () => {
      // A broken stream (restart, network): the browser reconnects by itself; once the job is over, stop.
      if (source.readyState === EventSource.CLOSED) jobEnded();
    });
  }

  cancelButton.addEventListener("click", async () => {
    cancelButton.disabled = true;
    const response = await api(`${base}/cancel`, { method: "POST" });
    cancelButton.disabled = false;
    if (response?.ok) {
      const view = await response.json();
      showStatus(view.status, view.progress, view.progress_message, view.error);
      announce("Transcription annulée.");
      document.getElementById("supprimer").focus();
    } else {
      showError(await errorMessage(response));
    }
  });

  // ---- Transcript ----------------------------------------------------------------------------------------

  async function showResult() {
    const response = await api(`${base}/result`);
    if (!response?.ok) {
      showError(await errorMessage(response));
      return;
    }
    render(await response.json());
    result.hidden = false;
    loadMinutes();
    loadModels();
  }

  function render(body) {
    transcript = body;
    const provenance = body.provenance || {};
    provenanceLine.textContent = [
      `Transcrit par ${provenance.model_id || "?"}${provenance.backend ? ` (${provenance.backend})` : ""}`,
      provenance.sovereign ? "modèle souverain" : "modèle non souverain",
      when(provenance.created_at),
    ].filter(Boolean).join(" · ");
    reviewBadge.hidden = !provenance.human_reviewed;
    reviewBadge.textContent = provenance.human_reviewed
      ? `Relue et corrigée${provenance.reviewed_by ? ` par ${provenance.reviewed_by}` : ""}${provenance.reviewed_at ? ` le ${when(provenance.reviewed_at)}` : ""}`
      : "";
    if (body.language && languageFact.textContent === "automatique") {
      languageFact.textContent = `${LANGUAGES[body.language] || body.language} (détectée)`;
    }
    renderSpeakers(body.speakers || []);
    renderSegments(body.segments || []);
  }

  function renderSpeakers(speakers) {
    speakersSection.hidden = speakers.length === 0;
    speakersList.replaceChildren();
    speakers.forEach((name, index) => {
      const form = element("form", "sv-speaker-form");
      form.dataset.index = String(index);
      const group = element("div", "fr-input-group");
      const inputId = `intervenant-${index}`;
      const label = element("label", "fr-label", `Intervenant n° ${index + 1}`);
      label.htmlFor = inputId;
      const input = element("input", "fr-input");
      input.id = inputId;
      input.name = "nom";
      input.required = true;
      input.maxLength = 80;
      input.autocomplete = "off";
      input.value = name;
      input.dataset.current = name;
      group.append(label, input);
      const button = element("button", "fr-btn fr-btn--secondary fr-btn--sm", "Renommer");
      button.type = "submit";
      button.append(element("span", "fr-sr-only", ` l'intervenant n° ${index + 1}`));
      form.append(group, button);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        rename(index, input);
      });
      speakersList.append(form);
    });
  }

  async function rename(index, input) {
    const before = input.dataset.current;
    const after = input.value.trim();
    if (!after) {
      showError("Indiquez un nom pour cet intervenant.");
      input.focus();
      return;
    }
    if (after === before) {
      announce("Nom inchangé.");
      return;
    }
    const body = await correct({ speakers: { [before]: after } });
    if (!body) return;
    document.getElementById(`intervenant-${index}`)?.focus();
    announce(`« ${before} » renommé en « ${after} ». La transcription est marquée comme relue.`);
  }

  async function correct(changes) {
    clearError();
    const response = await api(`${base}/result`, { method: "PATCH", json: changes });
    if (!response?.ok) {
      showError(await errorMessage(response));
      return null;
    }
    const body = await response.json();
    render(body);
    return body;
  }

  function renderSegments(segments) {
    current = -1;
    const items = segments.map((segment, index) => {
      const item = element("li", "sv-segment");
      item.dataset.index = String(index);
      item.dataset.start = String(segment.start);
      const head = element("p", "sv-segment__head");
      const time = clock(segment.start);
      if (player) {
        const seek = element("button", "sv-time fr-btn fr-btn--tertiary-no-outline fr-btn--sm");
        seek.type = "button";
        seek.dataset.action = "ecouter";
        seek.append(element("span", "fr-sr-only", "Écouter à partir de "), document.createTextNode(time));
        head.append(seek);
      } else {
        const stamp = element("time", "sv-time", time);
        stamp.dateTime = `PT${Math.floor(segment.start || 0)}S`;
        head.append(stamp);
      }
      if (segment.speaker) head.append(element("span", "sv-speaker", segment.speaker));
      const text = element("p", "sv-segment__text", segment.text);
      const edit = element("button", "fr-btn fr-btn--tertiary-no-outline fr-btn--sm fr-icon-edit-line fr-btn--icon-left", "Corriger");
      edit.type = "button";
      edit.dataset.action = "corriger";
      edit.append(element("span", "fr-sr-only", ` le passage de ${time}`));
      item.append(head, text, edit);
      return item;
    });
    segmentsList.replaceChildren(...items);
    // After a correction, the passage being played stays marked; before any playback, none is.
    if (player && (!player.paused || player.currentTime > 0)) highlight(player.currentTime);
  }

  function openEditor(item) {
    closeEditor();
    const index = Number(item.dataset.index);
    const segment = transcript.segments[index];
    const text = item.querySelector(".sv-segment__text");
    const edit = item.querySelector('[data-action="corriger"]');
    text.hidden = true;
    edit.hidden = true;
    const form = element("form", "sv-editor");
    const group = element("div", "fr-input-group");
    const fieldId = `correction-${index}`;
    const label = element("label", "fr-label", `Texte corrigé du passage de ${clock(segment.start)}`);
    label.htmlFor = fieldId;
    label.append(element("span", "fr-hint-text", "Échap pour annuler."));
    const area = element("textarea", "fr-input");
    area.id = fieldId;
    area.rows = 3;
    area.required = true;
    area.value = segment.text;
    group.append(label, area);
    const buttons = element("ul", "fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm");
    const save = element("button", "fr-btn fr-btn--sm", "Enregistrer la correction");
    save.type = "submit";
    const cancel = element("button", "fr-btn fr-btn--secondary fr-btn--sm", "Annuler");
    cancel.type = "button";
    cancel.dataset.action = "fermer";
    for (const button of [save, cancel]) {
      const li = element("li");
      li.append(button);
      buttons.append(li);
    }
    form.append(group, buttons);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = area.value.trim();
      if (!value) {
        showError("Un passage ne peut pas être vide.");
        area.focus();
        return;
      }
      if (value === segment.text) {
        closeEditor(true);
        return;
      }
      save.disabled = true;
      const body = await correct({ segments: { [index]: value } });
      save.disabled = false;
      if (!body) return;
      segmentsList.querySelector(`li[data-index="${index}"] [data-action="corriger"]`)?.focus();
      announce("Passage corrigé. La transcription est marquée comme relue.");
    });
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closeEditor(true);
      }
    });
    item.append(form);
    area.focus();
  }

  function closeEditor(refocus = false) {
    const form = segmentsList.querySelector(".sv-editor");
    if (!form) return;
    const item = form.closest("li");
    form.remove();
    item.querySelector(".sv-segment__text").hidden = false;
    const edit = item.querySelector('[data-action="corriger"]');
    edit.hidden = false;
    if (refocus) edit.focus();
  }

  function playFrom(item) {
    player.currentTime = transcript.segments[Number(item.dataset.index)].start;
    player.play().catch(() => announce("La lecture n'a pas pu démarrer : utilisez les commandes du lecteur."));
  }

  segmentsList.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) {
      // A click on a passage's text plays from there too (the time button is the keyboard's way to do it),
      // unless the user was selecting text to copy it.
      const text = event.target.closest(".sv-segment__text");
      if (text && player && !window.getSelection()?.toString()) playFrom(text.closest("li"));
      return;
    }
    const item = button.closest("li");
    if (button.dataset.action === "corriger") openEditor(item);
    else if (button.dataset.action === "fermer") closeEditor(true);
    else if (button.dataset.action === "ecouter" && player) playFrom(item);
  });

  // ---- Audio in step with the transcript -----------------------------------------------------------------

  function segmentAt(seconds) {
    const segments = transcript?.segments || [];
    for (let index = 0; index < segments.length; index += 1) {
      if (seconds >= segments[index].start && seconds < segments[index].end) return index;
    }
    return -1;
  }

  function highlight(seconds) {
    const index = segmentAt(seconds);
    if (index === current) return;
    // A class and aria-current only: the focus never moves, so keyboard users keep their place.
    segmentsList.querySelector(".sv-segment--current")?.removeAttribute("aria-current");
    segmentsList.querySelector(".sv-segment--current")?.classList.remove("sv-segment--current");
    current = index;
    const item = index >= 0 ? segmentsList.querySelector(`li[data-index="${index}"]`) : null;
    if (!item) return;
    item.classList.add("sv-segment--current");
    item.setAttribute("aria-current", "time");
    if (!segmentsList.contains(document.activeElement)) {
      // Scroll the transcript's own box, never the page: a reader elsewhere on the page stays where they are.
      const box = segmentsList.getBoundingClientRect();
      const line = item.getBoundingClientRect();
      if (line.top < box.top || line.bottom > box.bottom) segmentsList.scrollTop += line.top - box.top - box.height / 3;
    }
  }

  if (player) {
    player.addEventListener("timeupdate", () => highlight(player.currentTime));
    player.addEventListener("seeked", () => highlight(player.currentTime));
    player.addEventListener("error", () => showError("L'enregistrement n'a pas pu être lu : il a peut-être été supprimé."));
  }

  // ---- Minutes -------------------------------------------------------------------------------------------

  async function loadModels() {
    const response = await api("/v1/models");
    if (!response?.ok) return; // the default model stays the only choice
    const body = await response.json();
    const sovereign = (body.data || []).filter((model) => model.sovereign);
    if (!sovereign.length) return;
    minutesModel.replaceChildren(...sovereign.map((model) => {
      const option = element("option", "", model.card?.name ? `${model.card.name} (${model.id})` : model.id);
      option.value = model.id;
      return option;
    }));
  }

  async function loadMinutes() {
    const response = await api(`${base}/minutes`);
    if (response?.ok) renderMinutes(await response.json());
    else if (response?.status !== 404) showError(await errorMessage(response));
  }

  // Minutes items, each beside the passage it cites (side by side, for the secretariat's check).
  // Minutes of the first version stored decisions and questions as plain strings: they still render, uncited.

  function frenchDate(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    return match ? `${match[3]}/${match[2]}/${match[1]}` : iso;
  }

  function dated(iso, said) {
    if (iso && said) return `${frenchDate(iso)} (« ${said} »)`;
    return iso ? frenchDate(iso) : said ? `« ${said} »` : "";
  }

  function decisionLines(item) {
    return [item.text, item.effective_date || item.effective_said ? `Date d'effet : ${dated(item.effective_date, item.effective_said)}` : ""];
  }

  function actionLines(item) {
    return [
      item.task,
      `Responsable : ${item.owner || "non précisé"} · Échéance : ${dated(item.due_date, item.due) || "non précisée"}`,
    ];
  }

  function noteLines(item) {
    return [item.text, item.date ? `Date : ${frenchDate(item.date)}` : ""];
  }

  function showCited(indexes) {
    segmentsList.querySelectorAll(".sv-segment--cited").forEach((node) => node.classList.remove("sv-segment--cited"));
    const items = indexes.map((index) => segmentsList.querySelector(`li[data-index="${index}"]`)).filter(Boolean);
    if (!items.length) return;
    items.forEach((node) => node.classList.add("sv-segment--cited"));
    items[0].scrollIntoView({ block: "center" });
    items[0].setAttribute("tabindex", "-1");
    items[0].focus();
    if (player && transcript?.segments?.[indexes[0]]) player.currentTime = transcript.segments[indexes[0]].start;
  }

  function citedQuote(item) {
    const quote = element("blockquote", "sv-minute__quote");
    const indexes = Array.isArray(item.segments) ? item.segments : [];
    const segments = indexes.map((index) => transcript?.segments?.[index]).filter(Boolean);
    if (!segments.length) {
      quote.append(element("p", "", "Passage non relié (compte rendu d'une version précédente)."));
      return quote;
    }
    for (const segment of segments) {
      const line = element("p");
      line.append(element("strong", "", `${clock(segment.start)} ${segment.speaker ? `${segment.speaker} : ` : ""}`));
      line.append(document.createTextNode(segment.text));
      quote.append(line);
    }
    const go = element("button", "fr-btn fr-btn--sm fr-btn--tertiary-no-outline", `Voir dans la transcription (${clock(item.start)})`);
    go.type = "button";
    go.addEventListener("click", () => showCited(indexes));
    quote.append(go);
    return quote;
  }

  function renderItems(id, items, lines, empty) {
    const list = document.getElementById(id);
    if (!items.length) {
      list.replaceChildren(element("li", "", empty));
      return;
    }
    list.replaceChildren(...items.map((raw) => {
      const item = typeof raw === "string" ? { text: raw, segments: [] } : raw;
      const row = element("li", "sv-minute");
      const body = element("div");
      const [main, meta] = lines(item);
      body.append(element("p", "fr-mb-0", main));
      if (meta) body.append(element("p", "sv-minute__meta", meta));
      if (item.source === "modèle") body.append(element("p", "fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon", "relevé par le modèle"));
      if (item.check) body.append(element("p", "fr-badge fr-badge--sm fr-badge--warning", `À vérifier : ${item.check}`));
      row.append(body, citedQuote(item));
      return row;
    }));
  }

  function renderMinutes(body) {
    const minutes = body.minutes || {};
    const provenance = body.provenance || {};
    document.getElementById("cr-provenance").textContent = [
      `Rédigé par ${provenance.model_id || "?"}`,
      provenance.sovereign ? "modèle souverain" : "modèle non souverain",
      when(provenance.created_at),
    ].filter(Boolean).join(" · ");
    document.getElementById("cr-synthese").textContent = minutes.summary || "Pas de synthèse rédigée.";
    renderItems("cr-decisions", minutes.decisions || [], decisionLines, "Aucune décision relevée.");
    renderItems("cr-actions", minutes.actions || [], actionLines, "Aucune action relevée.");
    renderItems("cr-prochaine", minutes.next_meeting ? [minutes.next_meeting] : [], noteLines, "Non annoncée.");
    renderItems("cr-questions", minutes.open_questions || [], noteLines, "Aucune.");
    fillList(document.getElementById("cr-participants"), minutes.participants || [], "Non précisés.");
    minutesContent.hidden = false;
    minutesAbsent.hidden = true;
    minutesButton.textContent = "Rédiger à nouveau le compte rendu";
  }

  minutesForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    minutesButton.disabled = true;
    minutesWaiting.hidden = false;
    minutesContent.setAttribute("aria-busy", "true");
    announce("Rédaction du compte rendu en cours…");
    const model = minutesModel.value;
    const response = await api(`${base}/minutes`, { method: "POST", json: model ? { model } : {} });
    minutesButton.disabled = false;
    minutesWaiting.hidden = true;
    minutesContent.setAttribute("aria-busy", "false");
    if (response?.ok) {
      renderMinutes(await response.json());
      const heading = document.getElementById("cr-titre");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
      announce(`Compte rendu rédigé. ${LABEL}.`);
    } else {
      showError(await errorMessage(response));
      announce("Le compte rendu n'a pas pu être rédigé.");
    }
  });

  // ---- Delete --------------------------------------------------------------------------------------------

  document.getElementById("supprimer").addEventListener("click", () => {
    deleteName.textContent = root.dataset.title;
    deleteError.hidden = true;
    if (!window.dsfr) deleteDialog.showModal();
  });
  for (const button of deleteDialog.querySelectorAll("button[aria-controls]")) {
    button.addEventListener("click", () => { if (!window.dsfr) deleteDialog.close(); });
  }
  deleteOk.addEventListener("click", async () => {
    deleteOk.disabled = true;
    const response = await api(base, { method: "DELETE" });
    if (response && (response.status === 204 || response.status === 404)) {
      window.location.assign("/transcriptions?supprimee=1");
      return;
    }
    deleteOk.disabled = false;
    deleteError.querySelector("p").textContent = await errorMessage(response);
    deleteError.hidden = false;
  });

  // ---- Start ---------------------------------------------------------------------------------------------

  if (root.dataset.status === "succeeded") showResult();
  else if (!FINISHED.has(root.dataset.status)) follow();
})();
