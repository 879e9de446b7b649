// The chat page: models from /v1/models, answers streamed from /v1/chat/completions (SSE over fetch).
// History stays in this page for now; the conversations API will keep it server-side.
(() => {
  "use strict";

  const root = document.getElementById("chat");
  if (!root) return;

  const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const form = document.getElementById("saisie");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("envoyer");
  const stopButton = document.getElementById("arreter");
  const newButton = document.getElementById("nouvelle");
  const thread = document.getElementById("fil");
  const emptyState = document.getElementById("fil-vide");
  const announcer = document.getElementById("annonce");
  const errorBox = document.getElementById("erreur");
  const modelSelect = document.getElementById("modele");
  const sovereignty = document.getElementById("souverainete");
  const cardList = document.getElementById("fiche-modele-contenu");
  const cardTitle = document.getElementById("fiche-modele-titre");
  const questionTemplate = document.getElementById("gabarit-question");
  const answerTemplate = document.getElementById("gabarit-reponse");

  const LABEL = "Contenu généré par IA — à vérifier";
  const LANGUAGES = { fr: "français", en: "anglais", de: "allemand", es: "espagnol", it: "italien" };
  const decimal = new Intl.NumberFormat("fr-FR", { maximumSignificantDigits: 2 });
  const integer = new Intl.NumberFormat("fr-FR");
  const models = new Map();
  let history = [];
  let controller = null;

  // ---- Helpers -------------------------------------------------------------------------------------------

  let announceTimer = null;
  function announce(text) {
    // Clearing first makes screen readers repeat an identical message; the latest message wins.
    window.clearTimeout(announceTimer);
    announcer.textContent = "";
    announceTimer = window.setTimeout(() => { announcer.textContent = text; }, 50);
  }

  function showError(message) {
    errorBox.querySelector("p").textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.querySelector("p").textContent = "";
  }

  function renderMarkdown(element, text) {
    // Model output is untrusted: parsed Markdown is sanitised before it reaches the DOM; without the libraries
    // it is shown as plain text.
    if (window.marked && window.DOMPurify) {
      element.innerHTML = window.DOMPurify.sanitize(window.marked.parse(text, { gfm: true, breaks: true }));
      for (const link of element.querySelectorAll("a[href]")) {
        link.setAttribute("rel", "noopener noreferrer");
        link.setAttribute("target", "_blank");
        link.setAttribute("title", `${link.textContent} — nouvelle fenêtre`);
      }
    } else {
      element.textContent = text;
    }
  }

  function scrollToEnd() {
    thread.lastElementChild?.scrollIntoView({ block: "end" });
  }

  function setStreaming(streaming) {
    sendButton.disabled = streaming;
    stopButton.disabled = !streaming;
    modelSelect.disabled = streaming;
    for (const radio of document.querySelectorAll('input[name="sensibilite"]')) radio.disabled = streaming;
  }

  async function errorMessage(response) {
    if (response.status === 401) {
      return "Votre session a expiré : reconnectez-vous (page Connexion), puis renvoyez votre message.";
    }
    try {
      const body = await response.json();
      if (body?.error?.message) return body.error.message;
    } catch (_) { /* not JSON: fall through */ }
    return `Le service a répondu par une erreur (${response.status}). Réessayez dans un instant.`;
  }

  // ---- Models --------------------------------------------------------------------------------------------

  function describeSovereignty() {
    const model = models.get(modelSelect.value);
    sovereignty.replaceChildren();
    if (!model) return;
    const badge = document.createElement("span");
    badge.className = model.sovereign
      ? "fr-badge fr-badge--sm fr-badge--success"
      : "fr-badge fr-badge--sm fr-badge--warning";
    badge.textContent = model.sovereign ? "Souverain" : "Non souverain";
    sovereignty.append(badge);
    if (!model.sovereign) {
      const warning = document.createElement("span");
      warning.className = "fr-text--xs sv-warning";
      warning.textContent = " Hébergé hors de l'administration : aucune donnée personnelle ou sensible.";
      sovereignty.append(warning);
    }
    fillCard(model);
  }

  function fillCard(model) {
    const card = model.card || {};
    cardTitle.textContent = `Fiche du modèle : ${card.name || model.id}`;
    const rows = [
      ["Identifiant", model.id],
      ["Hébergement", model.sovereign ? "Souverain (infrastructure de l'administration)" : "Non souverain (hors de l'administration)"],
      // Limitations first: they decide whether the model suits the task (e.g. a model weak in French).
      ["Limites connues", card.limitations],
      ["Description", card.description],
      ["Langues", (card.languages || []).map((code) => LANGUAGES[code] || code).join(", ")],
      ["Taille", card.parameters ? `${card.parameters} paramètres` : ""],
      ["Quantification", card.quantization],
      ["Contexte", card.context_length ? `${integer.format(card.context_length)} jetons` : ""],
      ["Licence", card.licence],
      ["Version", card.version],
      ["Provenance des poids", card.source],
      ["Empreinte SHA-256 des poids", card.weights_sha256],
    ];
    cardList.replaceChildren();
    for (const [term, value] of rows) {
      if (!value) continue;
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      if (term === "Limites connues") dd.className = "sv-limitations";
      if (term.startsWith("Empreinte")) dd.className = "sv-hash";
      cardList.append(dt, dd);
    }
  }

  async function loadModels() {
    let response;
    try {
      response = await fetch("/v1/models", { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (_) {
      showError("Impossible de joindre le service pour lister les modèles. Vérifiez votre connexion puis rechargez la page.");
      return;
    }
    if (!response.ok) {
      showError(await errorMessage(response));
      return;
    }
    const body = await response.json();
    modelSelect.replaceChildren();
    for (const model of body.data) {
      models.set(model.id, model);
      const option = document.createElement("option");
      option.value = model.id;
      const name = model.card?.name ? `${model.card.name}` : model.id;
      option.textContent = `${name} — ${model.sovereign ? "souverain" : "non souverain"}`;
      modelSelect.append(option);
    }
    // Sovereign models first in the choice made for the user: the safest default.
    const preferred = body.data.find((model) => model.sovereign) || body.data[0];
    if (preferred) modelSelect.value = preferred.id;
    describeSovereignty();
  }

  // ---- Messages ------------------------------------------------------------------------------------------

  function addQuestion(text) {
    emptyState?.remove();
    const node = questionTemplate.content.firstElementChild.cloneNode(true);
    node.querySelector(".sv-message__text").textContent = text;
    thread.append(node);
    return node;
  }

  function addAnswer() {
    const node = answerTemplate.content.firstElementChild.cloneNode(true);
    thread.append(node);
    return node;
  }

  function describeUsage(usage, modelId, interrupted) {
    const parts = [];
    const model = models.get(modelId);
    parts.push(`Modèle : ${model?.card?.name || modelId}${model ? (model.sovereign ? " (souverain)" : " (non souverain)") : ""}`);
    if (usage) {
      if (typeof usage.energy_wh === "number") parts.push(`Énergie estimée : ${decimal.format(usage.energy_wh)} Wh`);
      if (typeof usage.gco2e === "number") parts.push(`Émissions : ${decimal.format(usage.gco2e)} g CO₂e`);
      if (typeof usage.completion_tokens === "number") parts.push(`${integer.format(usage.completion_tokens)} jetons générés`);
    }
    if (interrupted) parts.push("Réponse interrompue");
    return parts.join(" · ");
  }

  function finishAnswer(node, state) {
    const text = node.querySelector(".sv-message__text");
    text.setAttribute("aria-busy", "false");
    renderMarkdown(text, state.content || (state.interrupted ? "(aucun texte reçu)" : ""));
    node.querySelector(".sv-message__meta").textContent = describeUsage(state.usage, state.model, state.interrupted);
    const actions = node.querySelector(".sv-message__actions");
    actions.hidden = !state.content;
    actions.querySelector('[data-action="copier"]').addEventListener("click", () => copyAnswer(state));
    actions.querySelector('[data-action="markdown"]').addEventListener("click", () => downloadAnswer(state));
  }

  async function copyAnswer(state) {
    try {
      await navigator.clipboard.writeText(`${state.content}\n\n— ${LABEL} (modèle ${state.model})`);
      announce("Réponse copiée dans le presse-papiers.");
    } catch (_) {
      announce("La copie a échoué : sélectionnez le texte et utilisez Ctrl + C.");
    }
  }

  function downloadAnswer(state) {
    const provenance = state.provenance || {};
    const lines = [
      "---",
      "ai_generated: true",
      `model: ${JSON.stringify(state.model)}`,
      `request_id: ${JSON.stringify(provenance.request_id || "")}`,
      `generated_at: ${JSON.stringify(provenance.timestamp || provenance.created_at || new Date().toISOString())}`,
      "human_reviewed: false",
      "---",
      "",
      `> **${LABEL}**`,
      "",
      state.content,
      "",
    ];
    const blob = new Blob([lines.join("\n")], { type: "text/markdown;charset=utf-8" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `reponse-souverain-${new Date().toISOString().slice(0, 10)}.md`;
    document.body.append(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // ---- Streaming -----------------------------------------------------------------------------------------

  function handleEvent(data, state, render) {
    if (data === "[DONE]") return;
    let event;
    try {
      event = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (event.error) {
      state.failed = event.error.message || "La génération a échoué.";
      return;
    }
    if (event.provenance) state.provenance = event.provenance;
    if (event.usage) state.usage = event.usage;
    for (const choice of event.choices || []) {
      if (choice.index === 0 && choice.delta?.content) {
        state.content += choice.delta.content;
        render();
      }
    }
  }

  async function ask(question) {
    clearError();
    const modelId = modelSelect.value;
    history.push({ role: "user", content: question });
    const questionNode = addQuestion(question);
    const node = addAnswer();
    const textNode = node.querySelector(".sv-message__text");
    const state = { content: "", usage: null, provenance: null, model: modelId, interrupted: false, failed: null };
    let pending = false;
    const render = () => {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(() => {
        pending = false;
        renderMarkdown(textNode, state.content);
        scrollToEnd();
      });
    };
    scrollToEnd();
    controller = new AbortController();
    setStreaming(true);
    announce("Réponse en cours de génération…");
    try {
      const response = await fetch("/v1/chat/completions", {
        method: "POST",
        credentials: "same-origin",
        signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrfToken },
        body: JSON.stringify({
          model: modelId || undefined,
          sensitivity: document.querySelector('input[name="sensibilite"]:checked')?.value,
          messages: history,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (!response.ok) {
        // Nothing was sent to a model: undo the question and give its text back, so that the user can edit it
        // (e.g. remove the personal data a refusal points at).
        node.remove();
        questionNode.remove();
        history.pop();
        if (!input.value) input.value = question;
        showError(await errorMessage(response));
        announce("La réponse n'a pas pu être générée.");
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let boundary;
        while ((boundary = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const data = block.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n");
          if (data) handleEvent(data, state, render);
        }
      }
    } catch (error) {
      if (error.name === "AbortError") {
        state.interrupted = true;
      } else {
        state.failed = "La connexion au service a été interrompue. Réessayez.";
      }
    } finally {
      controller = null;
      setStreaming(false);
    }
    if (!node.isConnected) return;
    if (state.failed) {
      state.interrupted = true;
      showError(state.failed);
    }
    finishAnswer(node, state);
    if (state.content) history.push({ role: "assistant", content: state.content });
    announce(
      state.failed ? "La génération a échoué ; le début de la réponse est conservé."
        : state.interrupted ? "Génération arrêtée."
          : `Réponse reçue. ${LABEL}.`,
    );
  }

  function stop() {
    if (controller) controller.abort();
    input.focus();
  }

  // ---- Wiring --------------------------------------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || controller) return;
    input.value = "";
    input.focus();
    ask(question);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape" && controller) {
      event.preventDefault();
      stop();
    }
  });
  stopButton.addEventListener("click", stop);
  newButton.addEventListener("click", () => {
    stop();
    history = [];
    thread.replaceChildren();
    clearError();
    input.value = "";
    input.focus();
    announce("Nouvelle conversation : l'historique affiché a été effacé.");
  });
  modelSelect.addEventListener("change", describeSovereignty);

  loadModels();
})();
