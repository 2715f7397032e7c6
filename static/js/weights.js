/*
 * The reader's weights, where JavaScript runs (the form works without it: a
 * plain GET the server answers with the weighted page).
 *
 * A changed weight asks the server for the weighted result alone
 * (views.comparison_result), which follows the form's values to their one
 * spelling; the result replaces the old one in its polite live region, and the
 * address bar and the export links take that spelling, so the address can be
 * shared as it is.
 */
"use strict";
(function () {
  const form = document.querySelector(".weights__form");
  const result = document.getElementById("weighted-result");
  if (!form || !result || !window.fetch) return;
  let latest = 0;

  function withWeights(url, query) {
    const target = new URL(url, window.location.href);
    target.search = query ? `?w=${query}` : "";
    return target;
  }

  async function update() {
    const ask = ++latest;
    const url = new URL(form.dataset.resultUrl, window.location.href);
    for (const [name, value] of new FormData(form)) url.searchParams.append(name, value);
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "text/html" } });
    } catch (error) {
      return; // offline: the button still submits the form
    }
    if (!response.ok || ask !== latest) return;
    const html = await response.text();
    if (ask !== latest) return;
    const query = new URL(response.url).searchParams.get("w") || "";
    // The block never shrinks while the reader tries weights, so what is below
    // it moves at most when a longer result needs more room.
    result.style.minHeight = `${result.offsetHeight}px`;
    result.innerHTML = html;
    window.history.replaceState(null, "", withWeights(window.location.href, query));
    for (const link of document.querySelectorAll("a[data-keeps-weights]")) {
      link.href = withWeights(link.href, query).href;
    }
    for (const address of document.querySelectorAll("[data-weights-address]")) {
      address.textContent = withWeights(address.textContent.trim(), query).href;
    }
  }

  form.addEventListener("change", update);
})();
