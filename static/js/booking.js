// Booking form: preset the timezone from the browser. Without JavaScript the
// select keeps UTC (or what the visitor picked), so the form works either way.
(function () {
  "use strict";
  var select = document.getElementById("id_timezone");
  if (!select) { return; }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var form = document.getElementById("booking-form");
  // Only on a fresh form: after a failed submit the visitor's own choice stays.
  if (!zone || !form || form.querySelector(".is-invalid") || select.value !== "UTC") { return; }
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) { select.value = zone; return; }
  }
}());
