// The page's polite live region (#annonce), for screen readers. Clearing it first makes them repeat an
// identical message; the latest message wins.
let timer = null;

export function announce(text) {
  const region = document.getElementById("annonce");
  if (!region) return;
  window.clearTimeout(timer);
  region.textContent = "";
  timer = window.setTimeout(() => { region.textContent = text; }, 50);
}
