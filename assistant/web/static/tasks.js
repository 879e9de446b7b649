// The tasks page: a preset applied to pasted text or a file through POST /api/tasks/{preset}, streamed (SSE over
// fetch) so that long inputs show their progress; the labelled result is rendered as sanitised Markdown.
import { announce } from "/static/shared/announce.js";
import { csrfHeader } from "/static/shared/http.js";
import { readEvents } from "/static/shared/sse.js";

(() => {

  const root = document.getElementById("taches");
  if (!root) return;

  const form = document.getElementById("tache");
  const languageGroup = document.getElementById("langue-groupe");
  const languageSelect = document.getElementById("langue");
  const textGroup = document.getElementById("texte-groupe");
  const textInput = document.getElementById("texte");
  const fileGroup = document.getElementById("fichier-groupe");
  const fileInput = document.getElementById("fichier");
  const runButton = document.getElementById("lancer");
  const stopButton = document.getElementById("arreter");
  const errorBox = document.getElementById("erreur");
  const warningBox = document.getElementById("avertissement");
  const progressBox = document.getElementById("progression");
  const progressBar = document.getElementById("progression-barre");
  const progressLabel = document.getElementById("progression-libelle");
  const resultBox = document.getElementById("resultat");
  const resultText = document.getElementById("resultat-texte");
  const resultMeta = document.getElementById("resultat-meta");
  const resultActions = document.getElementById("resultat-actions");

  const LABEL = "Contenu généré par IA — à vérifier";
  // The wording exports carry (assistant.provenance.AI_LABEL), so that a download verifies like a server export.
  const EXPORT_LABEL = "Contenu généré par intelligence artificielle — à vérifier";
  const STEPS = { map: "Lecture des parties", reduce: "Regroupement des synthèses partielles", concat: "Traitement des parties" };
  const decimal = new Intl.NumberFormat("fr-FR", { maximumSignificantDigits: 2 });
  const integer = new Intl.NumberFormat("fr-FR");
  let controller = null;
  let last = null; // the latest finished result (TaskResult from the API)

  // ---- Helpers -------------------------------------------------------------------------------------------


  function showBox(box, message) {
    box.querySelector("p").textContent = message;
    box.hidden = !message;
  }

  function renderMarkdown(element, text) {
    // Model output is untrusted: /static/model_output.js renders it with a strict allow-list.
    if (window.renderModelOutput) window.renderModelOutput(element, text);
    else element.textContent = text;
  }

  async function errorMessage(response) {
    if (response.status === 401) return "Votre session a expiré : reconnectez-vous, puis relancez la tâche.";
    try {
      const body = await response.json();
      if (body?.error?.message) return body.error.message;
    } catch (_) { /* not JSON */ }
    if (response.status === 413) return "Fichier trop volumineux pour une tâche : découpez-le ou collez un extrait.";
    return `Le service a répondu par une erreur (${response.status}). Réessayez dans un instant.`;
  }

  function selectedPreset() {
    return form.querySelector('input[name="preset"]:checked');
  }

  function usesFile() {
    return form.querySelector('input[name="source"]:checked')?.value === "fichier";
  }

  // ---- Form state ----------------------------------------------------------------------------------------

  function syncForm() {
    const parameters = (selectedPreset()?.dataset.parametres || "").split(" ");
    languageGroup.hidden = !parameters.includes("langue_cible");
    textGroup.hidden = usesFile();
    fileGroup.hidden = !usesFile();
  }

  function setRunning(running) {
    runButton.disabled = running;
    stopButton.disabled = !running;
    for (const field of form.querySelectorAll("input, select, textarea")) field.disabled = running;
  }

  function setProgress(done, total, step) {
    progressBox.hidden = false;
    if (total) {
      progressBar.max = total;
      progressBar.value = done;
      progressLabel.textContent = `${STEPS[step] || "Traitement"} : ${integer.format(done)} sur ${integer.format(total)}`;
    } else {
      progressBar.removeAttribute("value"); // indeterminate: « en cours »
      progressLabel.textContent = step || "Tâche en cours…";
    }
  }

  // ---- Result --------------------------------------------------------------------------------------------

  function describe(result) {
    const parts = [`Modèle : ${result.model}`, `Tâche : ${result.preset.title} (${result.preset.id})`];
    const usage = result.usage || {};
    if (typeof usage.energy_wh === "number") parts.push(`Énergie estimée : ${decimal.format(usage.energy_wh)} Wh`);
    if (typeof usage.gco2e === "number") parts.push(`Émissions : ${decimal.format(usage.gco2e)} g CO₂e`);
    if (typeof usage.total_tokens === "number") parts.push(`${integer.format(usage.total_tokens)} jetons`);
    if (result.parts > 1) parts.push(`${integer.format(result.parts)} parties, ${integer.format(result.upstream_calls)} appels au modèle`);
    if (result.source?.filename) parts.push(`Source : ${result.source.filename}`);
    if (result.incomplete) parts.push("Résultat incomplet");
    return parts.join(" · ");
  }

  function finish(result) {
    last = result;
    resultText.setAttribute("aria-busy", "false");
    renderMarkdown(resultText, result.content || "(aucun texte reçu)");
    resultMeta.textContent = describe(result);
    resultActions.hidden = !result.content;
  }

  function exportMarkdown(result) {
    // The layout of the server's Markdown exports (assistant/exports/_markdown.py): the label in the front matter
    // and in the body, the generated text between markers, its signed manifest in a fenced block, so that
    // « Vérifier un export » recognises the file and any edit of the text shows.
    const manifest = result.provenance_manifest;
    const title = `${result.preset.title} — Souverain`;
    return [
      "---",
      `title: ${JSON.stringify(title)}`,
      "ai_generated: true",
      `label: ${JSON.stringify(EXPORT_LABEL)}`,
      "human_reviewed: false",
      `date: ${result.provenance?.created_at || new Date().toISOString()}`,
      "---",
      "",
      `# ${title}`,
      "",
      `> **${EXPORT_LABEL}.** Ce document contient des réponses produites par un modèle d'IA ; l'agent reste décideur.`,
      "",
      `## Réponse de l'assistant (${result.model})`,
      "",
      `*${EXPORT_LABEL}.*`,
      "",
      "<!-- souverain:ai-content 0 -->",
      result.content,
      "<!-- /souverain:ai-content -->",
      "",
      "## Manifestes de provenance signés",
      "",
      "```json souverain-manifests",
      JSON.stringify(manifest ? [manifest] : [], null, 2),
      "```",
      "",
    ].join("\n");
  }

  async function copyResult() {
    if (!last) return;
    try {
      await navigator.clipboard.writeText(`${last.content}\n\n— ${LABEL} (modèle ${last.model})`);
      announce("Résultat copié dans le presse-papiers.");
    } catch (_) {
      announce("La copie a échoué : sélectionnez le texte et utilisez Ctrl + C.");
    }
  }

  function downloadResult() {
    if (!last) return;
    const blob = new Blob([exportMarkdown(last)], { type: "text/markdown;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${last.preset.name}-souverain-${new Date().toISOString().slice(0, 10)}.md`;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // ---- Running a task ------------------------------------------------------------------------------------

  function requestBody() {
    const preset = selectedPreset();
    const options = { stream: "true", sensitivity: form.querySelector('input[name="sensitivity"]:checked')?.value };
    if (!languageGroup.hidden && languageSelect.value) options.target_language = languageSelect.value;
    if (usesFile()) {
      const file = fileInput.files[0];
      if (!file) return { error: "Choisissez le fichier à traiter.", focus: fileInput };
      const body = new FormData();
      for (const [key, value] of Object.entries(options)) if (value) body.append(key, value);
      body.append("file", file, file.name);
      return { preset, body, headers: {} };
    }
    const text = textInput.value.trim();
    if (!text) return { error: "Collez le texte à traiter.", focus: textInput };
    return {
      preset,
      body: JSON.stringify({ ...options, stream: true, text }),
      headers: { "Content-Type": "application/json" },
    };
  }

  function handle(name, payload, state) {
    if (name === "task_start") {
      state.parts = payload.parts;
      setProgress(0, payload.parts > 1 ? payload.parts : 0, payload.parts > 1 ? "map" : "Tâche en cours…");
    } else if (name === "progress") {
      setProgress(payload.done, payload.total, payload.step);
    } else if (name === "delta") {
      state.content += payload.content || "";
      state.render();
    } else if (name === "guard") {
      const notices = (payload.notices || []).map((notice) => notice.message).join(" ");
      showBox(warningBox, notices);
    } else if (name === "task_end") {
      state.result = payload.result;
    } else if (name === "error") {
      state.failed = payload.error?.message || "La tâche a échoué.";
      state.result = payload.result || null;
    }
  }

  async function run() {
    showBox(errorBox, "");
    showBox(warningBox, "");
    const request = requestBody();
    if (request.error) {
      showBox(errorBox, request.error);
      request.focus.focus();
      return;
    }
    const state = { content: "", result: null, failed: null, parts: 1, render: null };
    let pending = false;
    state.render = () => {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(() => {
        pending = false;
        renderMarkdown(resultText, state.content);
      });
    };
    last = null;
    resultBox.hidden = false;
    resultActions.hidden = true;
    resultMeta.textContent = "";
    resultText.replaceChildren();
    resultText.setAttribute("aria-busy", "true");
    setProgress(0, 0, "Envoi du texte…");
    controller = new AbortController();
    setRunning(true);
    announce("Tâche en cours…");
    try {
      const response = await fetch(`/api/tasks/${encodeURIComponent(request.preset.value)}`, {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: { ...request.headers, Accept: "text/event-stream", ...csrfHeader() },
        body: request.body,
      });
      if (!response.ok) {
        resultBox.hidden = true;
        state.failed = await errorMessage(response);
      } else {
        await readEvents(response, (name, payload) => handle(name, payload, state));
        if (!state.result && !state.failed) state.failed = "La connexion a été interrompue avant la fin de la tâche.";
      }
    } catch (error) {
      state.failed = error.name === "AbortError" ? "Tâche arrêtée." : "La connexion au service a été interrompue. Réessayez.";
    } finally {
      controller = null;
      setRunning(false);
      syncForm();
      progressBox.hidden = true;
    }
    if (state.result) {
      finish(state.result);
    } else if (state.content) {
      resultText.setAttribute("aria-busy", "false");
      renderMarkdown(resultText, state.content);
      resultMeta.textContent = "Résultat incomplet";
    }
    if (state.failed) {
      showBox(errorBox, state.failed);
      announce(state.content ? "La tâche a échoué ; le début du résultat est conservé." : "La tâche a échoué.");
    } else {
      announce(`Tâche terminée. ${LABEL}.`);
      resultBox.querySelector("h2").focus?.();
    }
  }

  // ---- Wiring --------------------------------------------------------------------------------------------

  form.addEventListener("change", syncForm);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!controller) run();
  });
  stopButton.addEventListener("click", () => controller?.abort());
  document.getElementById("copier").addEventListener("click", copyResult);
  document.getElementById("telecharger").addEventListener("click", downloadResult);
  syncForm();
})();
