// The Connections page's modals. Forms work without this script too (they post back);
// it only opens the dialogs with the chosen connection's name and fields.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const renameDialog = document.getElementById("rename-dialog");
  const reconnectDialog = document.getElementById("reconnect-dialog");

  // The status dropdown applies at once; the URL keeps the filter.
  const status = document.getElementById("status-filter");
  if (status) status.addEventListener("change", () => status.form.submit());

  document.querySelectorAll("button.rename").forEach((button) => {
    button.addEventListener("click", () => {
      const form = document.getElementById("rename-form");
      form.action = "/connections/" + encodeURIComponent(button.dataset.id) + "/rename";
      const name = document.getElementById("rename-name");
      name.value = button.dataset.name;
      renameDialog.showModal();
      name.select();
    });
  });

  document.querySelectorAll("button.reconnect").forEach((button) => {
    button.addEventListener("click", () => {
      const form = document.getElementById("reconnect-form");
      form.action = "/connections/" + encodeURIComponent(button.dataset.id) + "/reconnect";
      form.reset();
      document.getElementById("reconnect-name").textContent = button.dataset.name;
      // Only the fields of this connection's auth type are shown and sent.
      form.querySelectorAll("fieldset[data-auth]").forEach((fieldset) => {
        const mine = fieldset.dataset.auth === button.dataset.auth;
        fieldset.hidden = !mine;
        fieldset.disabled = !mine;
      });
      reconnectDialog.showModal();
      const first = form.querySelector("fieldset:not([disabled]) input, fieldset:not([disabled]) textarea");
      if (first) first.focus();
    });
  });

  document.querySelectorAll("dialog [data-close]").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
  });
});
