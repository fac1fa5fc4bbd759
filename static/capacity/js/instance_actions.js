/*
 * "Sync capacity" and "Test connection" buttons (instance list rows and the instance pages):
 * POST to the admin's JSON view with the CSRF token, show a spinner, then the answer next to
 * the button, and refresh the instance's cells ([data-instance][data-capacity-field]) in place.
 * Words come from the #capacity-strings json_script tag.
 */
(function () {
  "use strict";

  function strings() {
    const el = document.getElementById("capacity-strings");
    return el ? JSON.parse(el.textContent) : {};
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function refreshFields(instanceId, fields) {
    document.querySelectorAll(`[data-instance="${instanceId}"][data-capacity-field]`).forEach((cell) => {
      const name = cell.dataset.capacityField;
      if (!(name in fields)) return;
      cell.textContent = fields[name];
      if (name === "status") {
        cell.className = fields.status_class || cell.className;
        cell.title = fields.status_title || "";
      }
    });
  }

  // ok: true (success), false (failure) or null (still working).
  function showResult(box, ok, message) {
    const result = box.querySelector("[data-capacity-result]");
    if (!result) return;
    result.textContent = message;
    result.classList.toggle("capacity-result-ok", ok === true);
    result.classList.toggle("capacity-result-error", ok === false);
  }

  async function act(button) {
    const box = button.closest("[data-capacity-actions]");
    const words = strings();
    const buttons = box.querySelectorAll("button[data-capacity-action]");
    const spinner = box.querySelector(".capacity-spinner");
    buttons.forEach((b) => {
      b.disabled = true;
    });
    if (spinner) spinner.hidden = false;
    showResult(box, null, words.working || "");
    box.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "X-CSRFToken": csrfToken(),
          "X-Requested-With": "XMLHttpRequest",
        },
      });
      let data = null;
      try {
        data = await response.json();
      } catch (_e) {
        data = null;
      }
      if (!data) {
        showResult(box, false, (words.badResponse || "HTTP %(status)s").replace("%(status)s", response.status));
        return;
      }
      if (data.fields) refreshFields(button.dataset.instance, data.fields);
      showResult(box, Boolean(data.success), data.success ? data.message : data.error || words.failed || "");
      if (data.success && button.dataset.capacityAction === "sync") {
        document.dispatchEvent(new CustomEvent("capacity:synced", { detail: data }));
      }
    } catch (_exc) {
      showResult(box, false, words.network || "");
    } finally {
      buttons.forEach((b) => {
        b.disabled = false;
      });
      if (spinner) spinner.hidden = true;
      box.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-capacity-action]");
    if (!button) return;
    event.preventDefault();
    act(button);
  });
})();
