// Projects in the chat page: the filter of « Mes conversations » (a project, or the conversations outside any),
// the project a new conversation goes to, and « Ranger la conversation dans ». Projects are created and edited
// on /projets; /chat?projet=<id> opens the page on one of them.
import { call } from "./api.js";

const filter = document.getElementById("projet-filtre");
const move = document.getElementById("projet-conversation");
const instructions = document.getElementById("projet-consignes");

export const projects = new Map();

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

// The projects, into both selects; resolves to a French message when they could not be loaded (else null).
export async function loadProjects() {
  let listed;
  try {
    listed = await call("/api/projects");
  } catch (error) {
    return `Vos projets n'ont pas pu être chargés : ${error.message}`;
  }
  const chosen = filter.value || new URLSearchParams(window.location.search).get("projet") || "";
  projects.clear();
  filter.replaceChildren(option("", "Toutes mes conversations"), option("none", "Hors projet"));
  move.replaceChildren(option("", "Aucun projet"));
  for (const project of listed) {
    projects.set(project.id, project);
    filter.append(option(project.id, project.name));
    move.append(option(project.id, project.name));
  }
  filter.value = chosen === "none" || projects.has(chosen) ? chosen : "";
  showInstructions();
  return null;
}

// The filter as /api/conversations takes it ("" for all).
export const projectFilter = () => filter.value;

// The project a new conversation is filed in: the one the list shows, if any.
export const projectForNew = () => (projects.has(filter.value) ? filter.value : null);

export const projectName = (id) => projects.get(id)?.name || "";

function showInstructions() {
  const project = projects.get(filter.value);
  const parts = [];
  if (project?.instructions) parts.push(`Consignes du projet appliquées à chaque réponse : « ${project.instructions} »`);
  if (project?.collection_ids?.length) {
    parts.push(`${project.collection_ids.length} collection${project.collection_ids.length > 1 ? "s" : ""} consultée${project.collection_ids.length > 1 ? "s" : ""} quand vous n'en choisissez aucune.`);
  }
  instructions.textContent = parts.join(" ");
  instructions.hidden = parts.length === 0;
}

export function onFilterChange(handler) {
  filter.addEventListener("change", () => {
    showInstructions();
    handler(filter.value);
  });
}

// Shows where the open conversation is filed (nothing to move before its first message).
export function showFiling(summary) {
  move.value = summary?.project_id && projects.has(summary.project_id) ? summary.project_id : "";
}

export function onMove(handler) {
  move.addEventListener("change", () => handler(move.value || null));
}
