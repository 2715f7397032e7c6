// Comparison admin: a live preview beside each rich-text field (textarea with
// data-markdown-preview, set by ComparisonAdmin). The text is posted to the
// preview address, which answers with the HTML the public page would show,
// already sanitised by the server's rich_text.render. Without JavaScript the
// form is the same, minus the preview.
(function () {
  "use strict";
  var DELAY_MS = 300;
  var EMPTY = "Nothing written yet.";

  function setMessage(body, text) {
    body.textContent = "";
    var message = document.createElement("p");
    message.className = "markdown-preview__message";
    message.textContent = text;
    body.appendChild(message);
  }

  function csrfToken(textarea) {
    var field = textarea.form && textarea.form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function attach(textarea) {
    if (textarea.dataset.markdownPreviewReady) { return; }
    textarea.dataset.markdownPreviewReady = "1";

    var box = document.createElement("div");
    box.className = "markdown-preview";
    var label = document.createElement("p");
    label.className = "markdown-preview__label";
    label.id = textarea.id + "_preview_label";
    label.textContent = "Preview";
    var body = document.createElement("div");
    body.className = "markdown-preview__body";
    body.id = textarea.id + "_preview";
    body.setAttribute("role", "status");
    body.setAttribute("aria-live", "polite");
    body.setAttribute("aria-labelledby", label.id);
    box.appendChild(label);
    box.appendChild(body);
    // Beside the field: after its help text, inside the same admin row.
    var row = textarea.closest(".form-row") || textarea.parentNode;
    row.appendChild(box);

    var timer = null;
    var latest = 0;

    function refresh() {
      var text = textarea.value;
      var request = ++latest;
      if (!text.trim()) { setMessage(body, EMPTY); return; }
      var data = new URLSearchParams();
      data.append("csrfmiddlewaretoken", csrfToken(textarea));
      data.append("text", text);
      fetch(textarea.dataset.markdownPreview, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" }
      }).then(function (response) {
        return response.text().then(function (answer) {
          if (request !== latest) { return; } // a newer preview is on its way
          if (response.ok) {
            // Sanitised by the server with the public page's allowlist.
            body.innerHTML = answer || "";
            if (!answer) { setMessage(body, EMPTY); }
          } else {
            // A refusal is plain text: shown as text, never as markup.
            var type = response.headers.get("Content-Type") || "";
            setMessage(body, type.indexOf("text/plain") === 0 && answer
              ? answer : "Preview unavailable (error " + response.status + ").");
          }
        });
      }).catch(function () {
        if (request === latest) { setMessage(body, "Preview unavailable: no connection."); }
      });
    }

    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY_MS);
    });
    refresh();
  }

  function attachAll(root) {
    var fields = root.querySelectorAll("textarea[data-markdown-preview]");
    for (var i = 0; i < fields.length; i++) {
      // The empty template row of an inline is copied when a row is added; skip it.
      if (fields[i].id.indexOf("__prefix__") === -1) { attach(fields[i]); }
    }
  }

  function start() {
    attachAll(document);
    // Inline rows added in the page (Django admin's formset:added event).
    document.addEventListener("formset:added", function (event) { attachAll(event.target); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
