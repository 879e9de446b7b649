// The names heard in the introductions (« je m'appelle … »), proposed for the speakers on the transcription page.
// transcription.js draws one form per speaker; for each speaker still unnamed this puts the proposal in the input and
// says where it comes from in the label's hint, so that « Renommer » confirms it, or the typed correction.
import { apiFetch } from "/static/shared/http.js";

(() => {
  const root = document.getElementById("transcription");
  const list = document.getElementById("intervenants-liste");
  if (!root || !list) return;
  const base = `/api/transcriptions/${root.dataset.id}`;

  function stamp(seconds) {
    const whole = Math.max(0, Math.floor(seconds || 0));
    const pad = (value) => String(value).padStart(2, "0");
    const hours = Math.floor(whole / 3600);
    const rest = `${pad(Math.floor((whole % 3600) / 60))}:${pad(whole % 60)}`;
    return hours ? `${pad(hours)}:${rest}` : rest;
  }

  function describe(proposal) {
    const who = proposal.role ? `${proposal.name}, ${proposal.role}` : proposal.name;
    const how = proposal.source === "passage de parole" ? ", quand la parole lui a été donnée" : "";
    return `proposé : ${who} (entendu à ${stamp(proposal.start)}${how})`;
  }

  async function propose() {
    const response = await apiFetch(`${base}/speakers`).catch(() => null);
    // The proposals only help: without them the forms work as before.
    if (!response?.ok) return;
    const body = await response.json();
    const proposals = new Map((body.speakers || []).map((speaker) => [speaker.label, speaker.proposal]));
    list.querySelectorAll("form.sv-speaker-form").forEach((form) => {
      const input = form.querySelector("input");
      const label = form.querySelector("label");
      // Forms are redrawn after each correction; a form that has its hint already is left as it is.
      if (!input || !label || form.querySelector(".sv-speaker-proposal")) return;
      const proposal = proposals.get(input.dataset.current);
      if (!proposal || proposal.name === input.dataset.current) return;
      const hint = document.createElement("span");
      hint.className = "fr-hint-text sv-speaker-proposal";
      hint.textContent = describe(proposal);
      label.append(hint);
      if (input.value === input.dataset.current) input.value = proposal.name;
    });
  }

  new MutationObserver(() => {
    propose();
  }).observe(list, { childList: true });
})();
