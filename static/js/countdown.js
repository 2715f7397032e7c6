// Status pages: a live countdown to the promised reply time. Without
// JavaScript the page shows the time itself, which is always there.
(function () {
  "use strict";
  var element = document.querySelector("[data-countdown]");
  if (!element) { return; }
  var due = Date.parse(element.getAttribute("data-countdown"));
  if (isNaN(due)) { return; }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function update() {
    var minutes = Math.ceil((due - Date.now()) / 60000);
    if (minutes <= 0) {
      element.textContent = "The promised time has come: a person is on it.";
      return;
    }
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var parts = [];
    if (days) { parts.push(plural(days, "day")); }
    if (hours) { parts.push(plural(hours, "hour")); }
    if (!days) { parts.push(plural(minutes % 60, "minute")); }
    element.textContent = "That is in " + parts.join(", ") + ".";
  }

  update();
  element.hidden = false;
  window.setInterval(update, 30000);
}());
