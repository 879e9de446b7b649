// The one way pages call the JSON API: the session cookie, the anti-CSRF header on every unsafe method, and an
// optional `json` body. Resolves to the fetch Response; each page decides how it reports failures.
const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export function csrfHeader() {
  return { "X-CSRF-Token": csrfToken };
}

export function apiFetch(path, { json, headers = {}, ...options } = {}) {
  const method = (options.method || "GET").toUpperCase();
  const sent = { Accept: "application/json", ...headers };
  if (method !== "GET" && method !== "HEAD") Object.assign(sent, csrfHeader());
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    options.body = JSON.stringify(json);
  }
  return fetch(path, { credentials: "same-origin", ...options, method, headers: sent });
}
