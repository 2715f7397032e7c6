// Status pages: a live countdown to the promised reply time. Without
// JavaScript the page shows the time itself, which is always there.
(function () {
  "use strict";
  var element = document.querySelector("[data-countdown]");
  if (!element) { return; }
  var due = Date.parse(element.getAttribute("data-countdown"));
  if (isNaN(due)) { return; }

  // The sentences come translated from the page (consultations/includes/status.html);
  // each unit is "singular|plural".
  function text(name, fallback) {
    return element.getAttribute("data-text-" + name) || fallback;
  }

  function plural(count, name, fallback) {
    var forms = text(name, fallback).split("|");
    return count + " " + (count === 1 ? forms[0] : forms[forms.length - 1]);
  }

  function update() {
    var minutes = Math.ceil((due - Date.now()) / 60000);
    if (minutes <= 0) {
      element.textContent = text("done", "The promised time has come: a person is on it.");
      return;
    }
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var parts = [];
    if (days) { parts.push(plural(days, "day", "day|days")); }
    if (hours) { parts.push(plural(hours, "hour", "hour|hours")); }
    if (!days) { parts.push(plural(minutes % 60, "minute", "minute|minutes")); }
    element.textContent = text("in", "That is in {time}.").replace("{time}", parts.join(", "));
  }

  update();
  element.hidden = false;
  window.setInterval(update, 30000);
}());
