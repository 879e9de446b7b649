// The chat page. Conversations live on the server (/api/conversations): the list on the side, the open one in
// the URL (/chat?conversation=<id>, so a reload keeps it), answers streamed as server-sent events and stored
// with their label, provenance, sources and energy. Parts of the page are modules of ./chat/.
import { ApiError, call, failureOf, readEvents, request } from "./chat/api.js";
import { Answer, addQuestion, answerOf, clearThread, renderMessages, scrollToEnd } from "./chat/answers.js";
import { loadCollections, selectedCollections, setCollectionsDisabled } from "./chat/collections.js";
import {
  clearSuccess, openAnswerReport, openDelete, openFeedback, openGuardConfirmation, openGuardReport, openRename,
  openShare, sendFeedback,
} from "./chat/dialogs.js";
import { loadModels, selectModel } from "./chat/models.js";
import { LABEL, announce, clearError, showError } from "./chat/page.js";
import {
  loadProjects, onFilterChange, onMove, projectForNew, projectName, showFiling,
} from "./chat/projects.js";
import {
  conversationUrl, loadConversations, markCurrent, onConversationChosen, searching, setSearch,
} from "./chat/sidebar.js";

const form = document.getElementById("saisie");
const input = document.getElementById("message");
const sendButton = document.getElementById("envoyer");
const stopButton = document.getElementById("arreter");
const newButton = document.getElementById("nouvelle");
const modelSelect = document.getElementById("modele");
const title = document.getElementById("conversation-titre");
const conversationActions = document.getElementById("conversation-actions");
const guardBox = document.getElementById("garde");
const thread = document.getElementById("fil");

let conversation = null; // the open conversation's summary ({id, title, model_id, …}), null before the first message
let controller = null; // aborts the answer being streamed
let lastGuard = null; // the last refusal of the guard, for « Signaler une alerte injustifiée »

// ---- The open conversation -------------------------------------------------------------------------------

function showConversation(summary, { push = false } = {}) {
  conversation = summary;
  title.textContent = summary ? summary.title : "Nouvelle conversation";
  conversationActions.hidden = !summary;
  for (const link of conversationActions.querySelectorAll(".sv-exports a")) {
    link.href = summary ? `/api/conversations/${summary.id}/export?format=${link.dataset.format}` : "#";
  }
  const url = conversationUrl(summary?.id);
  if (`${window.location.pathname}${window.location.search}` !== url) {
    window.history[push ? "pushState" : "replaceState"]({ conversation: summary?.id || null }, "", url);
  }
  markCurrent(summary?.id);
  showFiling(summary);
  updateConversationExports();
}

// The whole conversation exports once it holds a stored answer (before, the server has nothing to export).
function updateConversationExports() {
  const exports = document.getElementById("export-conversation");
  exports.hidden = !thread.querySelector(".sv-message--assistant .sv-exports:not([hidden])");
}

function hideGuard() {
  guardBox.hidden = true;
  lastGuard = null;
}

function resetNotices() {
  clearError();
  clearSuccess();
  hideGuard();
}

async function openConversation(id, { push = false } = {}) {
  stop();
  resetNotices();
  let detail;
  try {
    detail = await call(`/api/conversations/${encodeURIComponent(id)}`);
  } catch (error) {
    startNew({ push: false, quiet: true });
    showError(error.status === 404 || error.status === 422
      ? "Cette conversation est introuvable : elle a peut-être été supprimée."
      : error);
    return;
  }
  const { messages, ...summary } = detail;
  showConversation(summary, { push });
  if (messages.length) renderMessages(messages);
  else clearThread({ empty: true });
  updateConversationExports();
  const notice = selectModel(summary.model_id);
  if (notice) showError(notice);
  scrollToEnd();
  announce(`Conversation « ${summary.title} » ouverte : ${messages.length} message${messages.length > 1 ? "s" : ""}.`);
}

function startNew({ push = true, quiet = false } = {}) {
  stop();
  resetNotices();
  clearThread({ empty: true });
  showConversation(null, { push });
  updateConversationExports();
  input.value = "";
  if (!quiet) {
    input.focus();
    announce("Nouvelle conversation : écrivez votre premier message.");
  }
}

// The open conversation, created on the first message; `fresh` says it was created just now.
async function ensureConversation() {
  if (conversation) return { current: conversation, fresh: false };
  const created = await call("/api/conversations", {
    method: "POST",
    json: { model: modelSelect.value || undefined, project_id: projectForNew() || undefined },
  });
  showConversation(created, { push: true });
  return { current: created, fresh: true };
}

// A first message refused before anything was stored leaves no empty conversation behind.
async function dropEmpty(created) {
  try {
    await call(`/api/conversations/${created.id}`, { method: "DELETE" });
  } catch (_) {
    return; // it stays, empty, in the list: harmless
  }
  if (conversation?.id === created.id) showConversation(null);
}

// ---- Sending ---------------------------------------------------------------------------------------------

function setStreaming(streaming) {
  sendButton.disabled = streaming;
  stopButton.disabled = !streaming;
  modelSelect.disabled = streaming;
  newButton.disabled = streaming;
  for (const radio of document.querySelectorAll('input[name="sensibilite"]')) radio.disabled = streaming;
  setCollectionsDisabled(streaming);
}

function giveBack(question) {
  // Nothing was kept: the question returns to the box, so that it can be edited and sent again.
  if (!input.value.trim()) input.value = question;
}

function showGuardRefusal(notice, question) {
  lastGuard = { notice, question, model: modelSelect.value };
  document.getElementById("garde-titre").textContent = `Demande refusée : ${notice.title}`;
  document.getElementById("garde-message").textContent = notice.message;
  document.getElementById("garde-clause").textContent = notice.clause ? `Référence : ${notice.clause}.` : "";
  guardBox.hidden = false;
  announce(`Demande refusée par la charte d'utilisation. ${notice.message}`);
}

// A refusal before anything was generated: the guard's, or an error. Returns true when it was the guard's.
function refuse(error, question) {
  giveBack(question);
  const notice = error.body?.guard;
  if (notice && error.code === "guard_confirmation_required") {
    openGuardConfirmation(notice, (confirmation) => {
      input.value = "";
      ask(question, confirmation);
    }, input);
    announce("La charte d'utilisation demande une confirmation avant d'envoyer ce message.");
    return;
  }
  if (notice && error.code === "forbidden_use") {
    showGuardRefusal(notice, question);
    return;
  }
  showError(error);
  announce("La réponse n'a pas pu être générée.");
  // Withdrawn while the page was open: the référent's message is in the error; the picker drops the model.
  if (error.code === "model_withdrawn") loadModels();
}

// Looks the stored answer up once the server has saved it (after a stop, the save finishes on its side).
async function fetchSaved(answer, tries = 5) {
  for (let attempt = 0; attempt < tries && answer.id; attempt += 1) {
    try {
      const detail = await call(`/api/conversations/${answer.conversationId}`);
      const saved = detail.messages.find((message) => message.id === answer.id);
      if (saved?.provenance_manifest) {
        answer.update(saved);
        answer.interrupted = true;
        answer.render();
        updateConversationExports();
        return;
      }
    } catch (_) {
      return;
    }
    await new Promise((resolve) => { window.setTimeout(resolve, 300 * (attempt + 1)); });
  }
}

async function ask(question, confirmation = null) {
  resetNotices();
  let current;
  let fresh;
  try {
    ({ current, fresh } = await ensureConversation());
  } catch (error) {
    refuse(error, question);
    return;
  }
  const questionNode = addQuestion(question);
  const answer = Answer.create({ conversationId: current.id, model: modelSelect.value });
  answer.question = question;
  scrollToEnd();
  controller = new AbortController();
  setStreaming(true);
  announce("Réponse en cours de génération…");
  let failed = null;
  let ended = false;
  try {
    const response = await request(`/api/conversations/${current.id}/messages`, {
      method: "POST",
      signal: controller.signal,
      accept: "text/event-stream",
      json: {
        content: question,
        stream: true,
        model: modelSelect.value || undefined,
        sensitivity: document.querySelector('input[name="sensibilite"]:checked')?.value,
        collections: selectedCollections(),
        guard_confirmation: confirmation || undefined,
      },
    });
    if (!response.ok) {
      answer.node.remove();
      questionNode.remove();
      if (!thread.querySelector(".sv-message")) clearThread({ empty: true });
      if (fresh) await dropEmpty(current);
      refuse(await failureOf(response), question);
      return;
    }
    await readEvents(response, (name, data) => {
      if (name === "guard") answer.showGuard(data.notices || []);
      else if (name === "message_start") {
        answer.id = data.message_id;
        answer.model = data.model;
        answer.provenance = data.provenance;
      } else if (name === "delta") answer.append(data.content || "");
      else if (name === "message_end") {
        ended = true;
        answer.update(data.message);
      } else if (name === "error") {
        failed = data.error?.message || "La génération a échoué.";
        answer.update(data.message);
        answer.interrupted = true;
      }
    });
    if (!ended && !failed) failed = "La connexion au service a été interrompue avant la fin de la réponse.";
  } catch (error) {
    if (error.name === "AbortError") answer.interrupted = true;
    else failed = error instanceof ApiError ? error.message : "La connexion au service a été interrompue. Réessayez.";
  } finally {
    controller = null;
    setStreaming(false);
  }
  if (failed) {
    answer.interrupted = true;
    showError(answer.content ? `${failed} Le début de la réponse est conservé.` : failed);
    if (!answer.content) giveBack(question);
  }
  answer.render();
  updateConversationExports();
  announce(
    failed && answer.content ? "La génération a échoué ; le début de la réponse est conservé."
      : failed ? "La génération a échoué ; votre message est remis dans la zone de saisie."
      : answer.interrupted ? "Génération arrêtée ; la réponse partielle est conservée."
        : `Réponse reçue. ${LABEL}.`,
  );
  if (answer.interrupted && !answer.manifest) fetchSaved(answer);
  // The first message titles the conversation, and the order changes: redraw the list, take the new title.
  const listed = await loadConversations(conversation?.id);
  const renamed = listed.find((item) => item.id === conversation?.id);
  if (renamed && renamed.title !== conversation.title) showConversation(renamed);
}

function stop() {
  if (controller) controller.abort();
}

// ---- Actions under the answers -----------------------------------------------------------------------------

async function copyAnswer(answer) {
  try {
    await navigator.clipboard.writeText(`${answer.content}\n\n— ${LABEL} (modèle ${answer.model})`);
    announce("Réponse copiée dans le presse-papiers.");
  } catch (_) {
    announce("La copie a échoué : sélectionnez le texte et utilisez Ctrl + C.");
  }
}

async function review(answer) {
  try {
    answer.update(await call(`/api/conversations/${answer.conversationId}/messages/${answer.id}/review`, { method: "POST" }));
  } catch (error) {
    showError(error);
    return;
  }
  answer.render();
  // The button is gone: focus goes to the state that replaced it.
  const badge = answer.node.querySelector(".sv-reviewed p");
  badge.tabIndex = -1;
  badge.focus();
  announce("Réponse marquée « relu et validé ». L'étiquette IA reste affichée.");
}

// 👍 is given at once; 👎 asks why first. Pressing the button of the current feedback again withdraws it.
async function rate(answer, button, value) {
  if (answer.feedback?.rating === value) {
    try {
      answer.feedback = await sendFeedback(answer, null);
    } catch (error) {
      showError(error);
      return;
    }
    answer.render();
    announce("Avis retiré.");
    return;
  }
  if (value === "down") {
    openFeedback(answer, (feedback) => {
      answer.feedback = feedback;
      answer.render();
    }, button);
    return;
  }
  try {
    answer.feedback = await sendFeedback(answer, { rating: "up" });
  } catch (error) {
    showError(error);
    return;
  }
  answer.render();
  announce("Merci : réponse notée comme utile.");
}

thread.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const answer = answerOf(button);
  if (!answer) return;
  if (button.dataset.action === "copier") copyAnswer(answer);
  else if (button.dataset.action === "relire") review(answer);
  else if (button.dataset.action === "signaler") openAnswerReport(answer, button);
  else if (button.dataset.action === "utile") rate(answer, button, "up");
  else if (button.dataset.action === "a-ameliorer") rate(answer, button, "down");
});

// ---- Wiring ----------------------------------------------------------------------------------------------

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
stopButton.addEventListener("click", () => {
  stop();
  input.focus();
});
newButton.addEventListener("click", () => startNew());
document.getElementById("renommer").addEventListener("click", (event) => {
  if (!conversation) return;
  openRename(conversation, (summary) => {
    showConversation(summary);
    loadConversations(summary.id);
  }, event.currentTarget);
});
document.getElementById("supprimer").addEventListener("click", (event) => {
  if (!conversation) return;
  openDelete(conversation, () => {
    startNew({ push: true, quiet: true });
    loadConversations(null);
    newButton.focus();
  }, event.currentTarget);
});
document.getElementById("partager").addEventListener("click", (event) => {
  if (conversation) openShare(conversation, event.currentTarget);
});
document.getElementById("garde-signaler").addEventListener("click", (event) => {
  if (lastGuard) openGuardReport(lastGuard.notice, lastGuard.question, lastGuard.model, event.currentTarget);
});
onConversationChosen((id) => {
  openConversation(id, { push: true }).then(() => input.focus());
});
window.addEventListener("popstate", () => {
  const id = new URLSearchParams(window.location.search).get("conversation");
  if (id) openConversation(id);
  else startNew({ push: false, quiet: true });
});

// ---- Projects and search ------------------------------------------------------------------------------------

const searchForm = document.getElementById("recherche-formulaire");
const searchInput = document.getElementById("recherche");
const clearSearch = document.getElementById("recherche-effacer");

searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  setSearch(searchInput.value);
  clearSearch.hidden = !searching();
  const found = await loadConversations(conversation?.id);
  if (searching()) announce(`${found.length} conversation${found.length > 1 ? "s" : ""} trouvée${found.length > 1 ? "s" : ""}.`);
});
clearSearch.addEventListener("click", async () => {
  searchInput.value = "";
  setSearch("");
  clearSearch.hidden = true;
  await loadConversations(conversation?.id);
  searchInput.focus();
  announce("Recherche effacée : toutes les conversations sont affichées.");
});
onFilterChange(async () => {
  await loadConversations(conversation?.id);
});
onMove(async (projectId) => {
  if (!conversation) return;
  clearError();
  try {
    const summary = await call(`/api/conversations/${conversation.id}`, { method: "PATCH", json: { project_id: projectId } });
    showConversation(summary);
    await loadConversations(summary.id);
    announce(projectId ? `Conversation rangée dans le projet « ${projectName(projectId)} ».` : "Conversation sortie de son projet.");
  } catch (error) {
    showFiling(conversation);
    showError(error);
  }
});

async function start() {
  const id = new URLSearchParams(window.location.search).get("conversation");
  const [, , projectsFailure] = await Promise.all([loadModels(), loadCollections(), loadProjects()]);
  if (projectsFailure) showError(projectsFailure);
  if (id) await openConversation(id);
  await loadConversations(conversation?.id);
}

start();
