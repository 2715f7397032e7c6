// Booking form: preset the timezone from the browser, and move focus to the
// error summary after a failed submit. Without JavaScript the timezone input keeps
// UTC (or what the visitor typed; its datalist offers the names), and the summary
// is the first thing in the page.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var input = document.getElementById("id_timezone");
  var names = input && input.list;
  if (!names) { return; }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var form = document.getElementById("booking-form");
  // Only on a fresh form: after a failed submit the visitor's own choice stays.
  if (!zone || !form || summary || input.value !== "UTC" || zone === "UTC") { return; }
  var known = false;
  for (var i = 0; i < names.options.length; i++) {
    if (names.options[i].value === zone) { known = true; break; }
  }
  if (!known) { return; }
  var url = new URL(window.location.href);
  if (document.getElementById("div_id_slots") && !url.searchParams.has("timezone")) {
    // The free slots are labelled on the server: ask for them in the visitor's time.
    url.searchParams.set("timezone", zone);
    window.location.replace(url.toString());
    return;
  }
  input.value = zone;
}());
