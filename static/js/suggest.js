/*
 * Search-as-you-type for text inputs that name something on the site: the
 * compare picker's frameworks and the booking form's comparison.
 *
 * An input with data-suggest-url and a list="..." datalist asks that address
 * (?q=what was typed) for at most ten names and offers them in the datalist,
 * which the browser shows as the input's suggestions. Without JavaScript the
 * datalist stays empty and the reader types the name: the server resolves it.
 */
"use strict";
(function () {
  if (!window.fetch) return;
  const WAIT_MS = 150;
  // The latest question asked for each datalist. Inputs may share one (the
  // picker's frameworks): an answer for one input that comes late must not
  // replace the names offered for the input being typed in now.
  const latest = new WeakMap();

  function suggest(input) {
    const list = input.list;
    if (!list) return;
    let timer = 0;

    async function ask() {
      const typed = input.value.trim();
      const ask = (latest.get(list) || 0) + 1;
      latest.set(list, ask);
      if (!typed) {
        list.replaceChildren();
        return;
      }
      const url = new URL(input.dataset.suggestUrl, window.location.href);
      url.searchParams.set("q", typed);
      let names;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) return;
        names = (await response.json()).suggestions;
      } catch (error) {
        return; // offline: the reader types the whole name
      }
      if (ask !== latest.get(list) || !Array.isArray(names)) return;
      list.replaceChildren(
        ...names.map(function (name) {
          const option = document.createElement("option");
          option.value = name;
          return option;
        })
      );
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, WAIT_MS);
    });
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(suggest);
})();
