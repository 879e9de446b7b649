// The chat's dialogs: rename, delete and share the open conversation, report an answer (or a guard decision
// thought unjustified), say why an answer is to be improved, confirm a request the charter asks a reason for.
import { call } from "./api.js";
import { announce, closeDialog, fieldError, formatDate, openDialog } from "./page.js";

const successBox = document.getElementById("succes");

export function showSuccess(text) {
  successBox.querySelector("p").textContent = text;
  successBox.hidden = false;
  announce(text);
}

export function clearSuccess() {
  successBox.hidden = true;
}

// ---- Rename ----------------------------------------------------------------------------------------------

const renameDialog = document.getElementById("dialogue-renommer");
const renameForm = document.getElementById("form-renommer");
const renameInput = document.getElementById("renommer-titre");
const renameGroup = document.getElementById("renommer-groupe");
const renameError = document.getElementById("renommer-erreur");
let renaming = null;

// Opens the rename dialog for `conversation` ({id, title}); `done(summary)` gets the renamed conversation.
export function openRename(conversation, done, opener) {
  renaming = { conversation, done };
  renameInput.value = conversation.title;
  fieldError(renameGroup, renameError, "");
  openDialog(renameDialog, opener);
}

renameForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!renaming) return;
  const title = renameInput.value.trim();
  if (!title) {
    fieldError(renameGroup, renameError, "Saisissez un titre.");
    renameInput.focus();
    return;
  }
  try {
    const summary = await call(`/api/conversations/${renaming.conversation.id}`, { method: "PATCH", json: { title } });
    closeDialog(renameDialog);
    renaming.done(summary);
    announce(`Conversation renommée « ${summary.title} ».`);
  } catch (error) {
    fieldError(renameGroup, renameError, error.message);
    renameInput.focus();
  }
});

// ---- Delete ----------------------------------------------------------------------------------------------

const deleteDialog = document.getElementById("dialogue-supprimer");
const deleteText = document.getElementById("supprimer-texte");
const deleteError = document.getElementById("supprimer-erreur");
let deleting = null;

export function openDelete(conversation, done, opener) {
  deleting = { conversation, done };
  deleteText.textContent = `La conversation « ${conversation.title} » et toutes ses réponses seront supprimées définitivement.`;
  deleteError.hidden = true;
  openDialog(deleteDialog, opener);
}

document.getElementById("supprimer-confirmer").addEventListener("click", async () => {
  if (!deleting) return;
  try {
    await call(`/api/conversations/${deleting.conversation.id}`, { method: "DELETE" });
  } catch (error) {
    deleteError.textContent = error.message;
    deleteError.hidden = false;
    return;
  }
  closeDialog(deleteDialog);
  deleting.done();
  announce(`Conversation « ${deleting.conversation.title} » supprimée.`);
});

// ---- Share ------------------------------------------------------------------------------------------------

const shareDialog = document.getElementById("dialogue-partager");
const shareForm = document.getElementById("form-partager");
const shareUsers = document.getElementById("partager-agents");
const shareGroups = document.getElementById("partager-groupes");
const shareGroup = document.getElementById("partager-groupe");
const shareError = document.getElementById("partager-erreur");
const sharesHeading = document.getElementById("partages-titre");
const sharesList = document.getElementById("partages-liste");
const sharesEmpty = document.getElementById("partages-vide");
let sharing = null;

const names = (text) => text.split(",").map((name) => name.trim()).filter(Boolean);

function shareItem(share) {
  const item = document.createElement("li");
  const who = [...share.users, ...share.groups.map((group) => `groupe « ${group} »`)].join(", ");
  item.append(`${share.mode_label} — ${who} — le ${formatDate(share.created_at)}`);
  const revoke = document.createElement("button");
  revoke.type = "button";
  revoke.className = "fr-btn fr-btn--tertiary-no-outline fr-btn--sm fr-ml-1w";
  revoke.textContent = "Révoquer";
  revoke.setAttribute("aria-label", `Révoquer le partage avec ${who}`);
  revoke.addEventListener("click", async () => {
    try {
      await call(`/api/shares/${share.id}`, { method: "DELETE" });
    } catch (error) {
      fieldError(shareGroup, shareError, error.message);
      return;
    }
    await listShares();
    // The button is gone with its share: focus goes to the list it was in.
    sharesHeading.focus();
    announce(`Partage avec ${who} révoqué : il n'y a plus accès.`);
  });
  item.append(" ", revoke);
  return item;
}

async function listShares() {
  let shares = [];
  try {
    shares = await call(`/api/conversations/${sharing.conversation.id}/shares`);
  } catch (error) {
    fieldError(shareGroup, shareError, error.message);
  }
  const current = shares.filter((share) => !share.revoked_at);
  sharesList.replaceChildren(...current.map(shareItem));
  sharesEmpty.hidden = current.length > 0;
}

// Opens the share dialog for `conversation` ({id, title}), with its shares in force and « Révoquer ».
export function openShare(conversation, opener) {
  sharing = { conversation };
  shareForm.reset();
  fieldError(shareGroup, shareError, "");
  sharesList.replaceChildren();
  sharesEmpty.hidden = true;
  openDialog(shareDialog, opener);
  listShares();
}

shareForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!sharing) return;
  const users = names(shareUsers.value);
  const groups = names(shareGroups.value);
  if (!users.length && !groups.length) {
    fieldError(shareGroup, shareError, "Saisissez au moins un agent ou un groupe.");
    shareUsers.focus();
    return;
  }
  const mode = shareForm.querySelector('input[name="mode"]:checked')?.value || "snapshot";
  let share;
  try {
    share = await call(`/api/conversations/${sharing.conversation.id}/shares`, {
      method: "POST",
      json: { users, groups, mode },
    });
  } catch (error) {
    fieldError(shareGroup, shareError, error.message);
    shareUsers.focus();
    return;
  }
  shareForm.reset();
  fieldError(shareGroup, shareError, "");
  await listShares();
  shareUsers.focus();
  announce(`Conversation partagée (${share.mode_label.toLowerCase()}).`);
});

// ---- Report ----------------------------------------------------------------------------------------------

const reportDialog = document.getElementById("dialogue-signaler");
const reportTitle = document.getElementById("dialogue-signaler-titre");
const reportForm = document.getElementById("form-signaler");
const reportContext = document.getElementById("signaler-contexte");
const reportCategories = document.getElementById("signaler-categories");
const reportText = document.getElementById("signaler-description");
const reportGroup = document.getElementById("signaler-groupe");
const reportError = document.getElementById("signaler-erreur");
const ANSWER_CONTEXT = reportContext.textContent;
let reporting = null;

function resetReport(title, context, withCategories) {
  reportTitle.textContent = title;
  reportContext.textContent = context;
  reportCategories.hidden = !withCategories;
  reportForm.reset();
  fieldError(reportGroup, reportError, "");
}

// Report a problem in an answer: its text, provenance and signed manifest go with the description.
export function openAnswerReport(answer, opener) {
  reporting = {
    body: (category, description) => ({
      category,
      description,
      excerpt: answer.content,
      provenance: answer.provenance || undefined,
      manifest: answer.manifest || undefined,
      model: answer.model || undefined,
      message_id: answer.id || undefined,
    }),
  };
  resetReport("Signaler un problème ou un biais", ANSWER_CONTEXT, true);
  openDialog(reportDialog, opener);
}

// Report a guard decision the user thinks unjustified: their message and the rule go with the description.
export function openGuardReport(notice, question, model, opener) {
  reporting = {
    body: (_category, description) => ({
      category: "faux_positif_garde",
      description: `Règle « ${notice.rule} » (${notice.title}) jugée injustifiée : ${description}`,
      excerpt: question,
      model: model || undefined,
    }),
  };
  resetReport(
    "Signaler une alerte injustifiée",
    `Votre message et la règle « ${notice.title} » seront joints au signalement, transmis au référent IA.`,
    false,
  );
  openDialog(reportDialog, opener);
}

reportForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!reporting) return;
  const description = reportText.value.trim();
  if (!description) {
    fieldError(reportGroup, reportError, "Décrivez le problème en quelques mots.");
    reportText.focus();
    return;
  }
  const category = reportForm.querySelector('input[name="categorie"]:checked')?.value || "autre";
  try {
    await call("/api/incidents", { method: "POST", json: reporting.body(category, description) });
  } catch (error) {
    fieldError(reportGroup, reportError, error.message);
    reportText.focus();
    return;
  }
  closeDialog(reportDialog);
  showSuccess("Merci : votre signalement a été transmis au référent IA. Vous pouvez le suivre dans « Mes données ».");
});

// ---- Feedback on an answer ------------------------------------------------------------------------------

const feedbackDialog = document.getElementById("dialogue-avis");
const feedbackForm = document.getElementById("form-avis");
const feedbackComment = document.getElementById("avis-commentaire");
const feedbackGroup = document.getElementById("avis-groupe");
const feedbackError = document.getElementById("avis-erreur");
const feedbackReport = document.getElementById("avis-signaler");
let rating = null;

const feedbackPath = (answer) => `/api/conversations/${answer.conversationId}/messages/${answer.id}/feedback`;

// Gives (or, with `null`, withdraws) the caller's feedback on `answer`; resolves to the new feedback.
export async function sendFeedback(answer, body) {
  if (body === null) {
    await call(feedbackPath(answer), { method: "DELETE" });
    return null;
  }
  return call(feedbackPath(answer), { method: "PUT", json: body });
}

// « Réponse à améliorer »: an optional reason and comment, and, in the same step, a report to the référent.
// `done(feedback)` gets the stored feedback.
export function openFeedback(answer, done, opener) {
  rating = { answer, done };
  feedbackForm.reset();
  const current = answer.feedback?.rating === "down" ? answer.feedback : null;
  if (current?.reason) feedbackForm.querySelector(`input[name="motif"][value="${current.reason}"]`).checked = true;
  feedbackComment.value = current?.comment || "";
  if (feedbackReport) {
    // Once reported, the report is followed in « Mes données »: it cannot be sent twice.
    feedbackReport.checked = Boolean(current?.incident_id);
    feedbackReport.disabled = Boolean(current?.incident_id);
  }
  fieldError(feedbackGroup, feedbackError, "");
  openDialog(feedbackDialog, opener);
}

feedbackForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!rating) return;
  const { answer, done } = rating;
  const report = Boolean(feedbackReport?.checked && !feedbackReport.disabled);
  const body = {
    rating: "down",
    reason: feedbackForm.querySelector('input[name="motif"]:checked')?.value || null,
    comment: feedbackComment.value.trim() || null,
    report,
  };
  let feedback;
  try {
    feedback = await sendFeedback(answer, body);
  } catch (error) {
    fieldError(feedbackGroup, feedbackError, error.message);
    feedbackComment.focus();
    return;
  }
  rating = null;
  closeDialog(feedbackDialog);
  done(feedback);
  showSuccess(
    report
      ? "Merci pour votre avis : il est enregistré et votre signalement a été transmis au référent IA."
      : "Merci pour votre avis : il est enregistré.",
  );
});

// ---- Guard confirmation ----------------------------------------------------------------------------------

const guardDialog = document.getElementById("dialogue-garde");
const guardForm = document.getElementById("form-garde");
const guardMessage = document.getElementById("garde-confirmer-message");
const guardClause = document.getElementById("garde-confirmer-clause");
const guardReason = document.getElementById("garde-motif");
const guardGroup = document.getElementById("garde-groupe");
const guardError = document.getElementById("garde-erreur");
let confirming = null;

// Asks for the reason a `confirm` rule requires; `confirmed({rule, reason})` resends the request with it.
export function openGuardConfirmation(notice, confirmed, opener) {
  confirming = { notice, confirmed };
  guardMessage.textContent = notice.message;
  guardClause.textContent = notice.clause ? `Référence : ${notice.clause}.` : "";
  guardReason.value = "";
  fieldError(guardGroup, guardError, "");
  openDialog(guardDialog, opener);
}

guardForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!confirming) return;
  const reason = guardReason.value.trim();
  if (reason.length < 10) {
    fieldError(guardGroup, guardError, "Expliquez en une phrase (10 caractères au moins) pourquoi la demande respecte la charte.");
    guardReason.focus();
    return;
  }
  const { notice, confirmed } = confirming;
  confirming = null;
  closeDialog(guardDialog);
  confirmed({ rule: notice.rule, reason });
});
