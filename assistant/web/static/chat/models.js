// The model picker: sovereign or not, the model card, and withdrawn models (shown with the référent's message,
// never selectable).
import { call } from "./api.js";
import { formatInteger, showError } from "./page.js";

const select = document.getElementById("modele");
const sovereignty = document.getElementById("souverainete");
const withdrawnBox = document.getElementById("modeles-retires");
const withdrawnList = document.getElementById("modeles-retires-liste");
const cardList = document.getElementById("fiche-modele-contenu");
const cardTitle = document.getElementById("fiche-modele-titre");

const LANGUAGES = { fr: "français", en: "anglais", de: "allemand", es: "espagnol", it: "italien" };

export const models = new Map();

export const isWithdrawn = (model) => model?.status === "withdrawn";
export const modelName = (id) => models.get(id)?.card?.name || id;

// « Modèle souverain de test (souverain) », for an answer's details.
export function modelLabel(id) {
  const model = models.get(id);
  if (!model) return id;
  return `${modelName(id)} (${model.sovereign ? "souverain" : "non souverain"})`;
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
    ["Contexte", card.context_length ? `${formatInteger(card.context_length)} jetons` : ""],
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

export function describeSovereignty() {
  const model = models.get(select.value);
  sovereignty.replaceChildren();
  if (!model) return;
  const badge = document.createElement("span");
  badge.className = model.sovereign ? "fr-badge fr-badge--sm fr-badge--success" : "fr-badge fr-badge--sm fr-badge--warning";
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

function withdrawnNotice(model) {
  return `« ${modelName(model.id)} » est retiré du service${model.withdrawn_reason ? ` : ${model.withdrawn_reason}` : "."}`;
}

// The preferred usable model: sovereign first, the safest default.
function fallbackModel() {
  const usable = [...models.values()].filter((model) => !isWithdrawn(model));
  return (usable.find((model) => model.sovereign) || usable[0])?.id || "";
}

// Selects `id` when it can still answer; otherwise a usable one, and says why the conversation's model changed.
export function selectModel(id) {
  const model = models.get(id);
  if (model && !isWithdrawn(model)) {
    select.value = id;
    describeSovereignty();
    return null;
  }
  select.value = fallbackModel();
  describeSovereignty();
  if (!id) return null;
  // Agents are not told about withdrawn models by the listing: a model that vanished from it was withdrawn.
  const why = model ? withdrawnNotice(model) : `Le modèle « ${id} » de cette conversation n'est plus proposé (retiré du service par le référent IA).`;
  return `${why} Les prochaines réponses viendront de « ${modelName(select.value)} ».`;
}

export async function loadModels() {
  let body;
  try {
    body = await call(document.getElementById("chat").dataset.modelesRetires === "oui"
      ? "/v1/models?include_withdrawn=true"
      : "/v1/models");
  } catch (error) {
    showError(error);
    return;
  }
  models.clear();
  select.replaceChildren();
  withdrawnList.replaceChildren();
  for (const model of body.data) {
    models.set(model.id, model);
    const option = document.createElement("option");
    option.value = model.id;
    const name = modelName(model.id);
    if (isWithdrawn(model)) {
      // Listed, so that nobody wonders where it went, but never selectable.
      option.disabled = true;
      option.textContent = `${name} — retiré du service`;
      const item = document.createElement("li");
      item.textContent = withdrawnNotice(model);
      withdrawnList.append(item);
    } else {
      option.textContent = `${name} — ${model.sovereign ? "souverain" : "non souverain"}`;
    }
    select.append(option);
  }
  withdrawnBox.hidden = !withdrawnList.children.length;
  const previous = select.dataset.choice;
  selectModel(models.has(previous) && !isWithdrawn(models.get(previous)) ? previous : fallbackModel());
}

select.addEventListener("change", () => {
  select.dataset.choice = select.value;
  describeSovereignty();
});
