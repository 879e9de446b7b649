// Sending a form body with a real progress bar: fetch cannot report upload progress, XMLHttpRequest can. Same
// contract as apiFetch (session cookie, anti-CSRF header, JSON back); resolves, never rejects, with what happened.
import { csrfHeader } from "/static/shared/http.js";

export function uploadWithProgress(path, body, { onProgress } = {}) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve) => {
    request.open("POST", path);
    request.setRequestHeader("X-CSRF-Token", csrfHeader()["X-CSRF-Token"]);
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded, event.total);
    });
    request.addEventListener("load", () => resolve({ outcome: "load", status: request.status, response: request.response }));
    request.addEventListener("error", () => resolve({ outcome: "error", status: 0, response: null }));
    request.addEventListener("abort", () => resolve({ outcome: "abort", status: 0, response: null }));
    request.send(body);
  });
  return { done, abort: () => request.abort() };
}
