// The collections picker: the document collections the user may read, sent with each message.
import { call } from "./api.js";

const fieldset = document.getElementById("collections");
const status = document.getElementById("collections-etat");

const CLASSIFICATIONS = { public: "publique", internal: "interne" };
const READABLE = new Set(["owner", "write", "read"]); // "manage" is a référent's right without the content

const names = new Map();

export const collectionName = (id) => names.get(id);

export function selectedCollections() {
  return [...fieldset.querySelectorAll('input[name="collection"]:checked')].map((input) => input.value);
}

export function setCollectionsDisabled(disabled) {
  for (const input of fieldset.querySelectorAll('input[name="collection"]')) input.disabled = disabled;
}

export async function loadCollections() {
  let found;
  try {
    found = await call("/api/collections");
  } catch (error) {
    status.textContent = error.status === 403 && error.code !== "charter_not_accepted"
      ? "Votre rôle ne donne pas accès aux documents."
      : `Collections indisponibles : ${error.message}`;
    return;
  }
  const readable = found.filter((collection) => READABLE.has(collection.your_access));
  for (const collection of readable) {
    names.set(collection.id, collection.name);
    const element = document.createElement("div");
    element.className = "fr-fieldset__element";
    const group = document.createElement("div");
    group.className = "fr-checkbox-group fr-checkbox-group--sm";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "collection";
    input.value = collection.id;
    input.id = `collection-${collection.id}`;
    const label = document.createElement("label");
    label.className = "fr-label";
    label.htmlFor = input.id;
    label.textContent = collection.name;
    const hint = document.createElement("span");
    hint.className = "fr-hint-text";
    hint.textContent = `Classification ${CLASSIFICATIONS[collection.classification] || collection.classification}`
      + (collection.description ? ` — ${collection.description}` : "");
    label.append(hint);
    group.append(input, label);
    element.append(group);
    fieldset.append(element);
  }
  if (readable.length) status.remove();
  else status.textContent = "Aucune collection de documents ne vous est accessible pour l'instant.";
}
