// Messages of the thread: the user's questions and the labelled answers, with their sources, energy, review
// state and actions. An Answer keeps what the API said about the message (its MessageView) next to its node.
import { collectionName } from "./collections.js";
import { modelLabel } from "./models.js";
import { formatDate, formatDecimal, formatInteger, renderMarkdown } from "./page.js";

const thread = document.getElementById("fil");
const questionTemplate = document.getElementById("gabarit-question");
const answerTemplate = document.getElementById("gabarit-reponse");

const emptyState = document.getElementById("fil-vide").cloneNode(true);
const answers = new WeakMap();

export const answerOf = (element) => answers.get(element.closest(".sv-message--assistant"));

// Empties the thread; `empty` puts back the invitation to ask a first question.
export function clearThread({ empty = false } = {}) {
  thread.replaceChildren();
  if (empty) thread.append(emptyState.cloneNode(true));
}

export function scrollToEnd() {
  thread.lastElementChild?.scrollIntoView({ block: "end" });
}

export function addQuestion(text) {
  document.getElementById("fil-vide")?.remove();
  const node = questionTemplate.content.firstElementChild.cloneNode(true);
  node.querySelector(".sv-message__text").textContent = text;
  thread.append(node);
  return node;
}

function guardNotice(notice) {
  const box = document.createElement("div");
  box.className = "fr-alert fr-alert--info fr-alert--sm fr-mb-1w";
  const title = document.createElement("p");
  title.className = "fr-text--bold fr-mb-1v";
  title.textContent = notice.confirmed ? `Rappel de la charte (confirmé avec votre motif) : ${notice.title}` : `Rappel de la charte : ${notice.title}`;
  const message = document.createElement("p");
  message.className = "fr-text--sm fr-mb-0";
  // Once confirmed, the rule's request for a reason is moot: say what became of the reason instead.
  const text = notice.confirmed
    ? "Vous avez confirmé que votre demande respecte la charte ; votre motif est conservé dans le journal d'audit."
    : notice.message;
  message.textContent = notice.clause ? `${text} (${notice.clause})` : text;
  box.append(title, message);
  return box;
}

function sourceItem(source) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  name.className = "fr-text--bold";
  name.textContent = source.title || "Document sans titre";
  item.append(name);
  const where = [];
  if (source.page) where.push(`page ${formatInteger(source.page)}`);
  if (source.section) where.push(`section « ${source.section} »`);
  const collection = source.collection_id && collectionName(source.collection_id);
  if (collection) where.push(`collection « ${collection} »`);
  if (source.synced_at) where.push(`synchronisé depuis le partage le ${formatDate(source.synced_at)}`);
  if (where.length) item.append(`, ${where.join(", ")}`);
  if (source.passage) {
    const details = document.createElement("details");
    details.className = "sv-source";
    const summary = document.createElement("summary");
    summary.textContent = "Voir l'extrait cité";
    const quote = document.createElement("blockquote");
    quote.textContent = source.passage;
    details.append(summary, quote);
    item.append(details);
  }
  return item;
}

export class Answer {
  constructor(node, { conversationId, model }) {
    this.node = node;
    this.conversationId = conversationId;
    this.model = model;
    this.id = null;
    this.content = "";
    this.provenance = null;
    this.manifest = null;
    this.usage = null;
    this.incomplete = false;
    this.interrupted = false;
    this.reviewed = false;
    this.question = "";
    this.feedback = null;
    this.pending = false;
    answers.set(node, this);
  }

  // A new answer at the end of the thread, busy until finished.
  static create(options) {
    const node = answerTemplate.content.firstElementChild.cloneNode(true);
    thread.append(node);
    return new Answer(node, options);
  }

  // A stored answer (MessageView), as reopened from the server.
  static fromMessage(message) {
    const answer = Answer.create({ conversationId: message.conversation_id, model: message.model_id });
    answer.update(message);
    answer.render();
    return answer;
  }

  get text() {
    return this.node.querySelector(".sv-message__text");
  }

  showGuard(notices) {
    this.node.querySelector(".sv-message__guard").replaceChildren(...notices.map(guardNotice));
  }

  append(piece) {
    this.content += piece;
    if (this.pending) return;
    this.pending = true;
    window.requestAnimationFrame(() => {
      this.pending = false;
      renderMarkdown(this.text, this.content);
      scrollToEnd();
    });
  }

  // Takes what the API says about the stored message.
  update(message) {
    if (!message) return;
    this.id = message.id;
    this.conversationId = message.conversation_id;
    this.content = message.content;
    this.model = message.model_id || this.model;
    this.provenance = message.provenance || this.provenance;
    this.manifest = message.provenance_manifest || this.manifest;
    this.usage = message.usage || this.usage;
    this.incomplete = Boolean(message.incomplete);
    this.finishReason = message.finish_reason || null;
    this.reviewed = Boolean(message.human_reviewed);
    if ("feedback" in message) this.feedback = message.feedback;
  }

  describe() {
    const parts = [`Modèle : ${modelLabel(this.model)}`];
    const usage = this.usage;
    if (usage) {
      if (typeof usage.energy_wh === "number") parts.push(`Énergie estimée : ${formatDecimal(usage.energy_wh)} Wh`);
      if (typeof usage.gco2e === "number") parts.push(`Émissions : ${formatDecimal(usage.gco2e)} g CO₂e`);
      if (typeof usage.completion_tokens === "number") parts.push(`${formatInteger(usage.completion_tokens)} jetons générés`);
    }
    if (this.interrupted || this.incomplete) parts.push("Réponse interrompue");
    if (this.finishReason === "repetition") parts.push("Génération arrêtée : le modèle se répétait");
    if (this.finishReason === "length") parts.push("Réponse coupée à la longueur maximale");
    if (this.feedback) parts.push(`Votre avis : ${this.feedback.rating_label.toLowerCase()}`);
    if (this.reviewed && this.provenance?.reviewed_by) {
      const when = this.provenance.reviewed_at ? ` le ${formatDate(this.provenance.reviewed_at)}` : "";
      parts.push(`Relu et validé par ${this.provenance.reviewed_by}${when}`);
    }
    return parts.join(" · ");
  }

  // Draws everything from the current state (after the stream, a reload or a review).
  render() {
    const node = this.node;
    this.text.setAttribute("aria-busy", "false");
    renderMarkdown(this.text, this.content || (this.interrupted || this.incomplete ? "(aucun texte reçu)" : ""));
    node.querySelector(".sv-message__meta").textContent = this.describe();
    node.querySelector(".sv-incomplete").hidden = !(this.interrupted || this.incomplete);
    node.querySelector(".sv-reviewed").hidden = !this.reviewed;
    const sources = this.provenance?.sources || [];
    const list = node.querySelector(".sv-sources");
    list.replaceChildren(...sources.map(sourceItem));
    node.querySelector(".sv-message__sources").hidden = !sources.length;
    const actions = node.querySelector(".sv-message__actions");
    actions.hidden = !this.content;
    const saved = Boolean(this.id && this.manifest);
    const review = node.querySelector('[data-action="relire"]');
    review.hidden = this.reviewed || !saved;
    review.parentElement.hidden = review.hidden;
    // 👍/👎 are toggle buttons: pressed shows the caller's current feedback, pressing it again withdraws it.
    for (const [action, rating] of [["utile", "up"], ["a-ameliorer", "down"]]) {
      const button = node.querySelector(`[data-action="${action}"]`);
      const pressed = this.feedback?.rating === rating;
      button.setAttribute("aria-pressed", String(pressed));
      button.classList.toggle(`fr-icon-thumb-${rating === "up" ? "up" : "down"}-fill`, pressed);
      button.classList.toggle(`fr-icon-thumb-${rating === "up" ? "up" : "down"}-line`, !pressed);
      button.parentElement.hidden = !saved;
    }
    for (const link of node.querySelectorAll(".sv-exports a")) {
      link.href = saved
        ? `/api/conversations/${this.conversationId}/messages/${this.id}/export?format=${link.dataset.format}`
        : "#";
    }
    node.querySelector(".sv-exports").hidden = !saved;
  }
}

// Re-renders a whole stored conversation.
export function renderMessages(messages) {
  clearThread();
  let question = "";
  for (const message of messages) {
    if (message.role === "user") {
      question = message.content;
      addQuestion(message.content);
    } else {
      Answer.fromMessage(message).question = question;
    }
  }
}
