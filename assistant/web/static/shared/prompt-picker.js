// The prompt library in a composer (chat box, tasks page). « / » typed in the empty field, or the button, opens
// the panel; a prompt's {{variables}} become fields; « Insérer » fills the prompt on the server (which counts
// the use) and puts the text in the field, still editable. Escape closes the panel and goes back to the field.
import { apiFetch } from "./http.js";

function fieldFor(prefix, name, index) {
  const group = document.createElement("div");
  group.className = "fr-input-group";
  const label = document.createElement("label");
  label.className = "fr-label";
  label.htmlFor = `${prefix}-variable-${index}`;
  label.textContent = name.charAt(0).toUpperCase() + name.slice(1);
  const input = document.createElement("textarea");
  input.className = "fr-input";
  input.id = `${prefix}-variable-${index}`;
  input.rows = 1;
  input.dataset.variable = name;
  input.required = true;
  group.append(label, input);
  return group;
}

async function failure(response) {
  try {
    const body = await response.json();
    if (typeof body?.error?.message === "string") return body.error.message;
  } catch (_) {
    // not JSON: the status says enough
  }
  return `Erreur ${response.status} : réessayez dans un instant.`;
}

function mount(root) {
  const prefix = root.dataset.prefixe;
  const target = document.getElementById(root.dataset.cible);
  const toggle = root.querySelector(`#${prefix}-ouvrir`);
  const panel = root.querySelector(`#${prefix}-panneau`);
  const select = root.querySelector(`#${prefix}-choix`);
  const description = root.querySelector(".sv-prompts__description");
  const fields = root.querySelector(".sv-prompts__fields");
  const error = root.querySelector(".sv-prompts__error");
  const empty = root.querySelector(".sv-prompts__empty");
  const insert = root.querySelector(".sv-prompts__insert");
  let prompts = [];

  function showError(text) {
    error.textContent = text || "";
    error.hidden = !text;
  }

  function showPrompt() {
    const prompt = prompts.find((item) => item.id === select.value);
    description.textContent = prompt?.description || "";
    description.hidden = !prompt?.description;
    fields.replaceChildren(...(prompt?.variables || []).map((name, index) => fieldFor(prefix, name, index)));
    showError("");
  }

  async function load() {
    const response = await apiFetch("/api/prompts");
    if (!response.ok) {
      showError(`La bibliothèque n'a pas pu être chargée : ${await failure(response)}`);
      return;
    }
    prompts = await response.json();
    select.replaceChildren();
    for (const [label, personal] of [["Mes prompts", true], ["Publiés pour mes groupes", false]]) {
      const mine = prompts.filter((prompt) => prompt.personal === personal);
      if (!mine.length) continue;
      const group = document.createElement("optgroup");
      group.label = label;
      for (const prompt of mine) {
        const option = document.createElement("option");
        option.value = prompt.id;
        option.textContent = prompt.title;
        group.append(option);
      }
      select.append(group);
    }
    empty.hidden = prompts.length > 0;
    select.disabled = insert.disabled = prompts.length === 0;
    showPrompt();
  }

  async function open() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    await load();
    (prompts.length ? select : toggle).focus();
  }

  function close({ focusTarget = true } = {}) {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (focusTarget) target.focus();
  }

  toggle.addEventListener("click", () => (panel.hidden ? open() : close()));
  root.querySelector(".sv-prompts__close").addEventListener("click", () => close());
  select.addEventListener("change", showPrompt);
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || panel.hidden) return;
    event.preventDefault();
    event.stopPropagation();
    close();
  });
  target.addEventListener("keydown", (event) => {
    if (event.key === "/" && !target.value && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      open();
    }
  });
  insert.addEventListener("click", async () => {
    const values = {};
    for (const input of fields.querySelectorAll("[data-variable]")) {
      if (!input.value.trim()) {
        showError(`Remplissez « ${input.dataset.variable} ».`);
        input.focus();
        return;
      }
      values[input.dataset.variable] = input.value;
    }
    const response = await apiFetch(`/api/prompts/${encodeURIComponent(select.value)}/fill`, {
      method: "POST",
      json: { values, surface: root.dataset.surface },
    });
    if (!response.ok) {
      showError(await failure(response));
      return;
    }
    const filled = await response.json();
    target.value = filled.text;
    target.dispatchEvent(new Event("input", { bubbles: true }));
    close();
  });
}

for (const root of document.querySelectorAll("[data-prompt-picker]")) mount(root);
