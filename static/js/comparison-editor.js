/*
 * The comparison change page, where JavaScript runs (it works without).
 *
 * 1. The factor grid follows the compared-frameworks rows: every factor (and
 *    the template for new factors) gets an assessment field and a winner
 *    choice for each framework row, named after the framework chosen in it.
 *    The server keys them the same way (comparisons/forms.py): assessment_N
 *    and row-N are the framework in row N + 1.
 * 2. Rows of the frameworks, factors and statistics move up and down with
 *    buttons; their position numbers are rewritten, nobody types them.
 */
"use strict";
(function () {
  const PARTICIPANTS = "participants";

  function frameworkRows() {
    return Array.from(
      document.querySelectorAll(`#${PARTICIPANTS}-group .inline-related[id^="${PARTICIPANTS}-"]`)
    ).filter((row) => !row.id.endsWith("-empty"));
  }

  function rowIndex(row) {
    return Number(row.id.slice(PARTICIPANTS.length + 1));
  }

  function frameworkName(row) {
    const select = row.querySelector("select[name$='-framework']");
    const option = select && select.selectedOptions[0];
    if (option && option.value) {
      return option.textContent.trim();
    }
    return `Framework in row ${rowIndex(row) + 1}`;
  }

  function factorForms() {
    return Array.from(document.querySelectorAll("#factors-group .inline-related"));
  }

  function factorPrefix(form) {
    const name = form.querySelector("[name$='-name']");
    return name ? name.name.slice(0, -"name".length) : null;
  }

  function ensureAssessment(form, index, label) {
    const prefix = factorPrefix(form);
    if (!prefix) return;
    const fieldName = `${prefix}assessment_${index}`;
    let field = form.querySelector(`[name="${fieldName}"]`);
    if (!field) {
      const rows = form.querySelectorAll(".form-row[class*='field-assessment_']");
      const model = rows[rows.length - 1];
      if (!model) return;
      const copy = model.cloneNode(true);
      copy.className = copy.className.replace(/field-assessment_\d+/, `field-assessment_${index}`);
      field = copy.querySelector("textarea");
      field.name = fieldName;
      field.id = `id_${fieldName}`;
      field.value = "";
      field.dataset.frameworkRow = String(index);
      const copiedLabel = copy.querySelector("label");
      if (copiedLabel) copiedLabel.htmlFor = field.id;
      copy.querySelectorAll(".errorlist").forEach((list) => list.remove());
      model.after(copy);
    }
    const labelElement = form.querySelector(`label[for="${field.id}"]`);
    if (labelElement) labelElement.textContent = `${label} assessment:`;
  }

  function ensureWinnerChoice(form, index, label) {
    const select = form.querySelector("select[name$='-decision']");
    if (!select) return;
    const value = `row-${index}`;
    let option = Array.from(select.options).find((candidate) => candidate.value === value);
    if (!option) {
      option = new Option(label, value);
      select.add(option);
    }
    option.textContent = label;
  }

  function updateGrid() {
    const rows = frameworkRows();
    for (const form of factorForms()) {
      for (const row of rows) {
        const index = rowIndex(row);
        const label = frameworkName(row);
        ensureAssessment(form, index, label);
        ensureWinnerChoice(form, index, label);
      }
    }
  }

  /* Reordering. */
  const announcer = document.createElement("p");
  announcer.className = "visually-hidden";
  announcer.setAttribute("aria-live", "polite");

  function orderedForms(group) {
    return Array.from(group.querySelectorAll(":scope > fieldset > .inline-related"))
      .filter((form) => !form.classList.contains("empty-form") && !form.id.endsWith("-empty"));
  }

  function isFilled(form) {
    if (form.classList.contains("has_original")) return true;
    return Array.from(form.querySelectorAll("input:not([type=hidden]), select, textarea")).some(
      (field) =>
        !field.classList.contains("row-position") &&
        field.type !== "checkbox" &&
        field.value.trim() !== ""
    );
  }

  function renumber(group) {
    let number = 0;
    for (const form of orderedForms(group)) {
      const position = form.querySelector(".row-position");
      if (position && isFilled(form)) {
        number += 1;
        position.value = String(number);
      }
    }
  }

  function rowName(form) {
    const named = form.querySelector("[name$='-name'], [name$='-value']");
    if (named && named.value) return named.value;
    const select = form.querySelector("select[name$='-framework']");
    if (select && select.selectedOptions[0] && select.selectedOptions[0].value) {
      return select.selectedOptions[0].textContent.trim();
    }
    return "Row";
  }

  function move(form, direction) {
    const group = form.closest(".inline-group");
    const forms = orderedForms(group);
    const at = forms.indexOf(form);
    const other = forms[at + direction];
    if (!other) return;
    if (direction < 0) other.before(form);
    else other.after(form);
    renumber(group);
    announcer.textContent = `${rowName(form)} moved to place ${at + direction + 1}.`;
    form.querySelector(`.move-row[data-direction="${direction}"]`).focus();
  }

  function addMoveButtons(form) {
    if (form.querySelector(".move-row") || form.id.endsWith("-empty")) return;
    const tools = document.createElement("span");
    tools.className = "move-rows";
    for (const [direction, text] of [[-1, "Move up"], [1, "Move down"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "move-row";
      button.dataset.direction = String(direction);
      button.textContent = text;
      button.addEventListener("click", () => move(form, direction));
      tools.append(button);
    }
    const place = form.querySelector(".factor-block > summary, .form-row.field-position");
    if (place && place.tagName === "SUMMARY") place.after(tools);
    else if (place) place.append(tools);
  }

  function setUpOrdering() {
    for (const group of document.querySelectorAll(".inline-group")) {
      if (!group.querySelector(".ordered-rows")) continue;
      orderedForms(group).forEach(addMoveButtons);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!document.getElementById(`${PARTICIPANTS}-group`)) return;
    document.body.append(announcer);
    updateGrid();
    setUpOrdering();
    // Native events, and the jQuery ones the admin's "+" popup sends when it adds
    // a framework to the select.
    document.addEventListener("change", (event) => {
      if (event.target.matches(`select[name^="${PARTICIPANTS}-"][name$="-framework"]`)) {
        updateGrid();
      }
    });
    if (window.django && window.django.jQuery) {
      window.django.jQuery(document).on("change", "select[name$='-framework']", updateGrid);
    }
    document.addEventListener("formset:added", (event) => {
      addMoveButtons(event.target);
      if (event.target.id.startsWith(`${PARTICIPANTS}-`) || event.target.id.startsWith("factors-")) {
        updateGrid();
      }
    });
  });
})();
