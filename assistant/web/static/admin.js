// Administration pages: ask before an action that cuts someone off (disable an account, revoke a key, withdraw a
// model). Forms carrying data-confirmer are posted only once confirmed; without JavaScript they post directly.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirmer;
  if (question && !window.confirm(question)) event.preventDefault();
});
