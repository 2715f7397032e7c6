// Booking form: preset the timezone from the browser, and move focus to the
// error summary after a failed submit. Without JavaScript the select keeps UTC
// (or what the visitor picked), and the summary is the first thing in the page.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var select = document.getElementById("id_timezone");
  if (!select) { return; }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var form = document.getElementById("booking-form");
  // Only on a fresh form: after a failed submit the visitor's own choice stays.
  if (!zone || !form || summary || select.value !== "UTC" || zone === "UTC") { return; }
  var known = false;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { known = true; break; }
  }
  if (!known) { return; }
  var url = new URL(window.location.href);
  if (document.getElementById("div_id_slots") && !url.searchParams.has("timezone")) {
    // The free slots are labelled on the server: ask for them in the visitor's time.
    url.searchParams.set("timezone", zone);
    window.location.replace(url.toString());
    return;
  }
  select.value = zone;
}());
