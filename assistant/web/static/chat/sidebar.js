// « Mes conversations »: the user's conversations, most recently active first, each a link that reopens it.
import { call } from "./api.js";
import { formatDate } from "./page.js";

const list = document.getElementById("historique");
const empty = document.getElementById("historique-vide");
const template = document.getElementById("gabarit-conversation");

const PAGE = 100;

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
  try {
    page = await call(`/api/conversations?limit=${PAGE}`);
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
    date.textContent = formatDate(conversation.updated_at);
    list.append(item);
  }
  if (page.total > page.items.length) {
    empty.textContent = `Les ${page.items.length} plus récentes sur ${page.total} sont affichées.`;
  } else {
    empty.textContent = "Aucune conversation pour l'instant : la première commencera avec votre premier message.";
  }
  empty.hidden = page.items.length > 0 && page.total <= page.items.length;
  markCurrent(currentId);
  return page.items;
}

list.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-id]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  onOpen(link.dataset.id, link);
});
