// « Mes conversations »: the user's conversations, most recently active first, each a link that reopens it —
// all of them, one project's, or those a search found (with the words around the match).
import { call } from "./api.js";
import { formatDate } from "./page.js";
import { projectFilter, projectName } from "./projects.js";

const list = document.getElementById("historique");
const empty = document.getElementById("historique-vide");
const template = document.getElementById("gabarit-conversation");

const PAGE = 100;

let query = ""; // the search in force ("" : none)

export function setSearch(text) {
  query = text.trim();
}

export const searching = () => query !== "";

export const conversationUrl = (id) => (id ? `/chat?conversation=${encodeURIComponent(id)}` : "/chat");

let onOpen = () => {};

// `open(id)` is called when a conversation of the list is chosen (the link still works with a modifier key).
export function onConversationChosen(open) {
  onOpen = open;
}

export function markCurrent(id) {
  for (const link of list.querySelectorAll("a")) {
    if (link.dataset.id === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// Redraws the list; resolves to the conversations listed (none when the list could not be loaded).
export async function loadConversations(currentId) {
  let page;
  const params = new URLSearchParams({ limit: String(PAGE) });
  const project = projectFilter();
  if (project) params.set("project", project);
  if (query) params.set("q", query);
  try {
    page = await call(`/api/conversations?${params}`);
  } catch (error) {
    empty.textContent = `Vos conversations n'ont pas pu être chargées : ${error.message}`;
    empty.hidden = false;
    return [];
  }
  list.replaceChildren();
  for (const conversation of page.items) {
    const item = template.content.firstElementChild.cloneNode(true);
    const link = item.querySelector("a");
    link.href = conversationUrl(conversation.id);
    link.dataset.id = conversation.id;
    item.querySelector(".sv-history__title").textContent = conversation.title;
    const date = item.querySelector(".sv-history__date");
    const filed = !project && conversation.project_id ? projectName(conversation.project_id) : "";
    date.textContent = filed ? `${formatDate(conversation.updated_at)} · ${filed}` : formatDate(conversation.updated_at);
    if (conversation.match) {
      const match = item.querySelector(".sv-history__match");
      match.textContent = conversation.match;
      match.hidden = false;
    }
    list.append(item);
  }
  if (query) {
    const found = page.total === 0 ? "Aucune conversation ne contient" : `${page.total} conversation${page.total > 1 ? "s" : ""} contien${page.total > 1 ? "nent" : "t"}`;
    empty.textContent = `${found} « ${query} »${project ? " dans ce choix de projet" : ""}.`;
  } else if (page.total > page.items.length) {
    empty.textContent = `Les ${page.items.length} plus récentes sur ${page.total} sont affichées.`;
  } else if (project) {
    empty.textContent = "Aucune conversation ici pour l'instant : la prochaine que vous commencerez y sera rangée.";
  } else {
    empty.textContent = "Aucune conversation pour l'instant : la première commencera avec votre premier message.";
  }
  empty.hidden = !query && page.items.length > 0 && page.total <= page.items.length;
  markCurrent(currentId);
  return page.items;
}

list.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-id]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  onOpen(link.dataset.id, link);
});
