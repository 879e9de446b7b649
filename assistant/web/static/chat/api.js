// Talking to the JSON API from the chat page: same-origin requests with the session's anti-CSRF token, French
// error messages, and the server-sent events of a streamed answer.
import { apiFetch } from "/static/shared/http.js";

export { readEvents } from "/static/shared/sse.js";

// A failed request, described for people: `text` for the error region, `link` when there is somewhere to go.
export class ApiError extends Error {
  constructor(text, { status = 0, code = "", body = null, link = null } = {}) {
    super(text);
    this.status = status;
    this.code = code;
    this.body = body;
    this.link = link;
  }
}

function serverMessage(body) {
  return typeof body?.error?.message === "string" ? body.error.message : "";
}

// The French sentence the error region shows for a refused or failed request.
export function describeFailure(status, body, headers) {
  const code = body?.error?.code || "";
  const said = serverMessage(body);
  if (status === 401) {
    return new ApiError("Votre session a expiré : reconnectez-vous, puis renvoyez votre message (il est conservé).", {
      status, code, body, link: { href: "/connexion?suivant=%2Fchat", text: "Se reconnecter" },
    });
  }
  if (status === 403 && code === "charter_not_accepted") {
    return new ApiError(said || "Acceptez la charte d'utilisation avant d'utiliser l'assistant.", {
      status, code, body, link: { href: "/charte", text: "Lire et accepter la charte d'utilisation" },
    });
  }
  if (status === 403 && code === "csrf_failed") {
    return new ApiError("Votre session a changé : rechargez la page, votre message sera à ressaisir.", { status, code, body });
  }
  if (status === 429) {
    const wait = Number.parseInt(headers?.get("Retry-After") ?? "", 10);
    const when = Number.isFinite(wait) && wait > 0 ? ` Réessayez dans ${wait} seconde${wait > 1 ? "s" : ""}.` : " Réessayez dans un instant.";
    return new ApiError(`${said || "Trop de demandes en peu de temps ou quota atteint."}${when}`, { status, code, body });
  }
  if (status === 502) {
    return new ApiError(`Le serveur du modèle a renvoyé une réponse invalide. Réessayez ; si cela persiste, prévenez votre référent IA.${said ? ` (${said})` : ""}`, { status, code, body });
  }
  if (status === 503) {
    return new ApiError(`Le modèle est momentanément indisponible. Réessayez dans quelques minutes ou choisissez un autre modèle.${said ? ` (${said})` : ""}`, { status, code, body });
  }
  if (status === 504) {
    return new ApiError(`Le modèle a mis trop de temps à répondre. Réessayez, éventuellement avec une question plus courte.${said ? ` (${said})` : ""}`, { status, code, body });
  }
  if (said) return new ApiError(said, { status, code, body });
  return new ApiError(`Le service a répondu par une erreur (${status}). Réessayez dans un instant.`, { status, code, body });
}

const UNREACHABLE = "Impossible de joindre le service. Vérifiez votre connexion, puis réessayez.";

// fetch() with the session cookie and the anti-CSRF header; `json` is sent as the body. Resolves to the Response.
export async function request(path, { method = "GET", json, signal, accept = "application/json" } = {}) {
  try {
    return await apiFetch(path, { method, json, signal, headers: { Accept: accept } });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(UNREACHABLE);
  }
}

async function readJson(response) {
  try {
    return await response.json();
  } catch (_) {
    return null;
  }
}

// The JSON body of a successful call, or an ApiError whose text the page can show as is.
export async function call(path, options = {}) {
  const response = await request(path, options);
  const body = response.status === 204 ? null : await readJson(response);
  if (!response.ok) throw describeFailure(response.status, body, response.headers);
  return body;
}

// An ApiError for a response that is not ok (its body read as JSON when it is).
export async function failureOf(response) {
  return describeFailure(response.status, await readJson(response), response.headers);
}
