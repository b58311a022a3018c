// The screen page's behaviour on top of htmx (which posts the form and swaps the answer).
// Without this file, or without JavaScript, the form still posts and the page comes back
// with the answer. Nothing here talks to the server; the case lives in this tab only.
(function () {
  "use strict";
  var form = document.getElementById("screen-form");
  if (!form) { return; }
  document.documentElement.classList.add("has-js");
  var KEY = "poemsaid.screen";
  var col = document.getElementById("result-col");
  // The client's few words come from the page (data-words on the form), in its language.
  var WORDS = {};
  try { WORDS = JSON.parse(form.getAttribute("data-words") || "{}"); } catch (e) { WORDS = {}; }
  function word(key, english) { return WORDS[key] || english; }

  // --- The case survives Back and reload, in this tab only (sessionStorage). ---
  function save() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) { pairs.push([name, String(value)]); });
    try { sessionStorage.setItem(KEY, JSON.stringify(pairs)); } catch (e) { /* private mode: no restore */ }
  }
  function restore() {
    var raw = null;
    try { raw = sessionStorage.getItem(KEY); } catch (e) { return false; }
    if (!raw) { return false; }
    var pairs;
    try { pairs = JSON.parse(raw); } catch (e) { return false; }
    var given = {};
    var any = false;
    pairs.forEach(function (p) { given[p[0]] = p[1]; if (p[1] !== "" && !/__unit$/.test(p[0])) { any = true; } });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in given)) { return; }
      if (el.type === "radio") { el.checked = (el.value === given[el.name]); } else { el.value = given[el.name]; }
    });
    return any;
  }
  form.addEventListener("change", save);
  form.addEventListener("input", save);
  document.querySelectorAll(".clear-form").forEach(function (a) {
    a.addEventListener("click", function () {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    });
  });
  form.querySelectorAll(".print-btn").forEach(function (b) {
    b.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  });

  // An empty field is "not assessed", and the server reads a missing one the same way.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== form) { return; }
    var params = event.detail.parameters;
    if (!params || typeof params.forEach !== "function" || typeof params.delete !== "function") { return; }
    var empty = [];
    params.forEach(function (value, name) { if (value === "") { empty.push(name); } });
    empty.forEach(function (name) { params.delete(name); });
  });

  // Field messages come back out of band: clear the old ones, then mark the fields.
  var noteOpen = false;
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "answer") { return; }
    var note = document.getElementById("screen-note");
    noteOpen = !!(note && note.open);
    form.querySelectorAll(".field-msg").forEach(function (p) { p.textContent = ""; p.className = "field-msg"; });
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    var note = document.getElementById("screen-note");
    if (note && noteOpen) { note.open = true; }
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".field-msg.is-error").forEach(function (p) {
      form.querySelectorAll('[name="' + p.id.slice(4) + '"]').forEach(function (input) {
        input.setAttribute("aria-invalid", "true");
      });
    });
    syncToggle();
  });

  // A live update that fails must not leave the previous answer looking current.
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.body.addEventListener(name, function (event) {
      if (event.detail.elt !== form) { return; }
      var panel = document.getElementById("answer");
      if (!panel || panel.classList.contains("stale")) { return; }
      panel.classList.add("stale");
      var warning = document.createElement("p");
      warning.className = "stale-warning";
      warning.setAttribute("role", "alert");
      warning.textContent = word("stale", "Could not update: this answer is for earlier entries. Change any value or press Show the answer to try again.");
      panel.insertBefore(warning, panel.firstChild);
      var status = document.getElementById("live-status");
      if (status) { status.textContent = word("failed", "Could not update the answer"); }
    });
  });

  // --- On a phone the answer is a bar at the bottom that opens into the full answer. ---
  var behind = [document.querySelector(".form-col"), document.querySelector(".site-header"),
    document.querySelector(".site-footer"), document.querySelector(".page-title"), document.querySelector(".page-lede")];
  function syncToggle() {
    var button = col && col.querySelector(".result-toggle");
    if (!button) { return; }
    var open = col.classList.contains("expanded");
    behind.forEach(function (el) { if (el) { el.inert = open; } });
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? word("close", "Close") : word("full", "Full answer");
    if (open) {
      var hint = document.createElement("span");
      hint.className = "visually-hidden";
      hint.textContent = word("hint", " the full answer");
      button.appendChild(hint);
    }
  }
  if (col) {
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || !col.classList.contains("expanded")) { return; }
      col.classList.remove("expanded");
      syncToggle();
      var button = col.querySelector(".result-toggle");
      if (button) { button.focus(); }
    });
    col.addEventListener("click", function (event) {
      var t = event.target;
      if (t && t.classList && t.classList.contains("result-toggle")) {
        col.classList.toggle("expanded");
        syncToggle();
        return;
      }
      if (t && t.tagName === "A" && (t.getAttribute("href") || "").charAt(0) === "#") {
        col.classList.remove("expanded");
        syncToggle();
      }
      if (t && t.classList && t.classList.contains("copy-btn")) { copy(t); }
    });
  }
  function copy(button) {
    var area = document.getElementById(button.getAttribute("data-copy"));
    var status = col.querySelector(".copy-status");
    var done = function () { status.textContent = word("copied", "Copied."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done, function () { area.select(); status.textContent = word("press", "Press Ctrl+C to copy."); });
    } else {
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { status.textContent = word("press", "Press Ctrl+C to copy."); }
    }
  }

  // Back, forward and reload put the case back and ask for the answer again; arriving
  // afresh (the menu, a new patient) starts empty.
  function cameBackOrReloaded(event) {
    if (event.persisted) { return true; }
    var nav = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")[0] : null;
    return !!nav && (nav.type === "back_forward" || nav.type === "reload");
  }
  window.addEventListener("pageshow", function (event) {
    if (!cameBackOrReloaded(event)) {
      // A page posted without the live update (Show the answer) holds its case: keep it.
      save();
      return;
    }
    if (restore()) {
      var note = document.getElementById("restored");
      if (note) { note.hidden = false; }
      if (window.htmx) { window.htmx.trigger(form, "recompute"); }
    }
  });
})();
