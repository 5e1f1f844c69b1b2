// The Connections page's modals and the OAuth2 popup. The forms of API-key, basic and custom
// credentials work without this script too (they post back); OAuth2 needs it for the popup.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const renameDialog = document.getElementById("rename-dialog");
  const reconnectDialog = document.getElementById("reconnect-dialog");

  // "Connected on" in the browser's time zone; the tooltip keeps the time in UTC.
  const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time.local[datetime]").forEach((time) => {
    const moment = new Date(time.dateTime);
    if (!Number.isNaN(moment.getTime())) time.textContent = local.format(moment);
  });

  // The status and provider dropdowns apply at once; the URL keeps the filters.
  for (const id of ["status-filter", "provider-filter"]) {
    const select = document.getElementById(id);
    if (select) select.addEventListener("change", () => select.form.submit());
  }

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

  document.querySelectorAll("button.reconnect:not([data-oauth2])").forEach((button) => {
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

  // OAuth2 pieces connect through the provider's consent page, in a popup. The popup is opened
  // at once (a popup opened after a network round trip is blocked), then sent to the provider.
  const startOAuth2 = (fields) => {
    const popup = window.open("about:blank", "credlog-oauth2", "popup,width=520,height=680");
    const body = new URLSearchParams(fields);
    body.set("csrf", document.querySelector("input[name=csrf]").value);
    fetch("/connections/oauth2", { method: "POST", body, headers: { Accept: "application/json" } })
      .then((response) => response.json().then((answer) => ({ ok: response.ok, answer })))
      .then(({ ok, answer }) => {
        if (!ok) throw new Error(answer.detail || "the authorization could not start");
        if (popup) popup.location.href = answer.authorizationUrl; else window.location.href = answer.authorizationUrl;
      })
      .catch((error) => {
        if (popup) popup.close();
        const alert = document.getElementById("oauth2-error");
        alert.textContent = error.message;
        alert.hidden = false;
      });
  };

  // The popup's last page tells this window how it went (same origin only), then closes.
  window.addEventListener("message", (event) => {
    if (event.origin !== window.location.origin || !event.data || event.data.credlog !== "oauth2") return;
    if (event.data.ok) window.location.assign("/connections?authorized=" + encodeURIComponent(event.data.connectionId || ""));
  });

  const result = document.getElementById("oauth2-result");
  if (result && window.opener && result.dataset.ok === "true") {
    window.opener.postMessage({ credlog: "oauth2", ok: true, connectionId: result.dataset.connection }, window.location.origin);
    window.close();
  }

  document.querySelectorAll("button.reconnect[data-oauth2]").forEach((button) => {
    button.addEventListener("click", () => startOAuth2({ connectionId: button.dataset.id }));
  });

  const createDialog = document.getElementById("create-dialog");
  const newButton = document.getElementById("new-connection");
  if (newButton && createDialog) {
    const form = document.getElementById("create-form");
    const piece = document.getElementById("create-piece");
    const showFields = () => {
      const option = piece.selectedOptions[0];
      const oauth2 = option && option.dataset.oauth2 === "true";
      form.querySelectorAll("fieldset[data-auth]").forEach((fieldset) => {
        const mine = !oauth2 && option && fieldset.dataset.auth === option.dataset.auth;
        fieldset.hidden = !mine;
        fieldset.disabled = !mine;
      });
      document.getElementById("create-save").textContent = oauth2 ? "Connect with " + option.textContent : "Save";
    };
    piece.addEventListener("change", showFields);
    newButton.addEventListener("click", () => {
      form.reset();
      showFields();
      createDialog.showModal();
    });
    form.addEventListener("submit", (event) => {
      const option = piece.selectedOptions[0];
      if (option && option.dataset.oauth2 === "true") {
        event.preventDefault();
        createDialog.close();
        startOAuth2({ piece: piece.value, name: document.getElementById("create-name").value });
      }
    });
  }

  document.querySelectorAll("dialog [data-close]").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
  });
});
