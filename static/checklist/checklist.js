// The checklist page's behaviour on top of htmx (which posts the form and swaps
// the result). Without this file, or without JavaScript, the form still posts
// and the page comes back with the result. Nothing here talks to the server.
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  if (!form) { return; }
  document.documentElement.classList.add("has-js");
  var KEY = "poemsaid.case";
  var col = document.getElementById("result-col");
  var groups = {};
  try { groups = JSON.parse(form.getAttribute("data-set-groups") || "{}"); } catch (e) { groups = {}; }

  // --- The case survives Back and reload, in this tab only (sessionStorage). ---
  function save() {
    var pairs = [];
    new FormData(form).forEach(function (value, name) { pairs.push([name, String(value)]); });
    try { sessionStorage.setItem(KEY, JSON.stringify(pairs)); } catch (e) { /* private mode: no restore */ }
  }

  function restore() {
    var raw = null;
    // A page pre-filled from the patient's record (SMART launch) must never be overwritten
    // by a case kept earlier in this tab, which may be another patient's.
    if (document.getElementById("from-record")) {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      return false;
    }
    try { raw = sessionStorage.getItem(KEY); } catch (e) { return false; }
    if (!raw) { return false; }
    var pairs;
    try { pairs = JSON.parse(raw); } catch (e) { return false; }
    var given = {};
    pairs.forEach(function (p) { given[p[0]] = p[1]; });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in given)) { return; }
      if (el.type === "radio") { el.checked = (el.value === given[el.name]); } else { el.value = given[el.name]; }
    });
    arrange();
    openFilled();
    return true;
  }

  // A disclosure that holds a value is open, so nothing entered is hidden.
  function openFilled() {
    form.querySelectorAll("details.more").forEach(function (d) {
      var filled = Array.prototype.some.call(d.querySelectorAll("input, select"), function (el) {
        if (el.classList.contains("unit")) { return false; }
        if (el.type === "radio") { return el.checked && el.value !== ""; }
        return el.value !== "";
      });
      if (filled) { d.open = true; }
    });
  }

  // --- The criteria set decides the groups, their headings and minimums, and which
  // sub-findings it does not count (a note next to each). ---
  function arrange() {
    var select = form.elements.criteria_set;
    var wanted = select && groups[select.value];
    if (!wanted) { return; }
    var off = wanted.not_counted || [];
    form.querySelectorAll(".not-counted").forEach(function (el) {
      var shown = off.indexOf(el.getAttribute("data-code")) !== -1;
      var text = el.querySelector(".not-counted-text");
      if (text) { text.textContent = shown ? wanted.note : ""; }
      el.hidden = !shown;
    });
    (wanted.groups || []).forEach(function (g) {
      var part = document.getElementById("part-" + g.role);
      if (!part) { return; }
      part.querySelector(".part-title").textContent = g.title;
      part.querySelector(".part-intro").textContent = g.intro;
      var rows = part.querySelector(".rows");
      g.criteria.forEach(function (code) {
        var row = document.getElementById("row-" + code);
        if (row) { rows.appendChild(row); }
      });
      part.hidden = g.criteria.length === 0;
    });
  }

  // --- SI or US: only empty lab fields change unit; a typed value keeps its own. ---
  function applyUnits() {
    var system = form.elements.units ? form.elements.units.value : "SI";
    form.querySelectorAll("select.unit").forEach(function (sel) {
      var input = form.elements[sel.name.replace(/__unit$/, "")];
      if (input && input.value !== "") { return; }
      var unit = sel.getAttribute(system === "US" ? "data-us" : "data-si");
      if (unit) { sel.value = unit; }
    });
  }

  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.name === "criteria_set") { arrange(); }
    if (t && t.name === "units") { applyUnits(); }
    save();
  });
  form.addEventListener("input", save);

  // "Clear the form" forgets the case in this tab too.
  form.querySelectorAll(".clear-form").forEach(function (a) {
    a.addEventListener("click", function () {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    });
  });

  // Print the page itself: print CSS turns it into the report.
  form.querySelectorAll(".print-btn").forEach(function (b) {
    b.addEventListener("click", function (event) { event.preventDefault(); window.print(); });
  });

  // An empty field is "not assessed" and the server reads a missing one the same
  // way: leave empties out of the live update (a third of the body, parsed per change).
  document.body.addEventListener("htmx:configRequest", function (event) {
    var params = event.detail.parameters;
    if (!params || typeof params.forEach !== "function" || typeof params.delete !== "function") { return; }
    var empty = [];
    params.forEach(function (value, name) { if (value === "") { empty.push(name); } });
    empty.forEach(function (name) { params.delete(name); });
  });

  // --- After each swap: field messages came out of band; mark the fields. ---
  // The result's disclosures ("Criteria, with reasons", the comparison, the note) stay
  // as the clinician left them when a new result replaces the old one. Reopening the
  // note fetches it again for the new case (hx-trigger="toggle once" on a new element).
  var openInResult = [];
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "result") { return; }
    openInResult = Array.prototype.map.call(
      event.detail.target.querySelectorAll("details[id][open]"), function (d) { return d.id; });
    form.querySelectorAll(".field-msg").forEach(function (p) { p.textContent = ""; p.className = "field-msg"; });
  });
  function reopen() {
    openInResult.forEach(function (id) {
      var d = document.getElementById(id);
      if (d && d.closest("#result")) { d.open = true; }
    });
    openInResult = [];
  }
  // A criterion line left at "Not assessed" says when the details beneath it decide it
  // anyway (a sub-finding, a lab), so the line never looks undecided beside a met answer.
  // The words come with the result (data-derived), written once on the server.
  function markDerived(hideOnly) {
    var statuses = {};
    var words = {};
    document.querySelectorAll("#result .criteria-list > li[data-code]").forEach(function (li) {
      statuses[li.getAttribute("data-code")] = li.getAttribute("data-status");
      words[li.getAttribute("data-code")] = li.getAttribute("data-derived") || "";
    });
    form.querySelectorAll(".derived").forEach(function (el) {
      var code = el.getAttribute("data-code");
      var own = form.querySelector('input[name="' + code + '"]:checked');
      var text = (own && own.value !== "") ? "" : (words[code] || "");
      // Between a change and its result the words would be the previous case's: only hide.
      if (hideOnly && text && el.hidden) { return; }
      el.querySelector(".derived-text").textContent = text;
      el.setAttribute("data-status", text ? statuses[code] : "");
      el.hidden = !text;
    });
  }
  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.type === "radio" && t.closest(".crit-line")) { markDerived(true); }
  });

  // "Start a follow-up" (outside the result panel) is offered while the case meets the criteria.
  function syncFollowUp() {
    var start = document.getElementById("start-follow-up");
    var panel = document.getElementById("result");
    if (start) { start.hidden = !(panel && panel.classList.contains("status-met")); }
  }
  document.body.addEventListener("htmx:afterSettle", function () {
    syncFollowUp();
    reopen();
    markDerived();
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".field-msg.is-error").forEach(function (p) {
      // By name, not id: a finding's three radios have ids of their own (id_<code>_0.._2).
      form.querySelectorAll('[name="' + p.id.slice(4) + '"]').forEach(function (input) {
        input.setAttribute("aria-invalid", "true");
      });
    });
    syncToggle();
  });

  // --- A live update that fails (server error, timeout, no network) must not leave the
  // previous answer looking current: the panel is marked out of date, in words, and the
  // status line says so. The next change (or "Show result") tries again. ---
  function isLive(event) {
    var elt = event.detail && event.detail.elt;
    return elt === form;
  }
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    if (!isLive(event)) { return; }
    var panel = document.getElementById("result");
    if (panel) { panel.setAttribute("aria-busy", "true"); }
  });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var panel = document.getElementById("result");
    if (panel && isLive(event)) { panel.removeAttribute("aria-busy"); }
  });
  // Not htmx:sendAbort: a request replaced by a newer one (hx-sync) is not a failure.
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.body.addEventListener(name, function (event) { if (isLive(event)) { markStale(); } });
  });
  function markStale() {
    var panel = document.getElementById("result");
    if (!panel || panel.classList.contains("stale")) { return; }
    panel.classList.add("stale");
    var warning = document.createElement("p");
    warning.className = "stale-warning";
    warning.setAttribute("role", "alert");
    // A fixed string, never case data.
    warning.textContent = "Could not update: this answer is for earlier entries. Change any value or press Show result to try again.";
    panel.insertBefore(warning, panel.firstChild);
    var status = document.getElementById("live-status");
    if (status) { status.textContent = "Could not update the answer"; }
    form.querySelectorAll(".derived").forEach(function (el) { el.hidden = true; });
  }

  // --- On a phone the result is a bar at the bottom that opens into the full result. ---
  var behind = [document.querySelector(".form-col"), document.querySelector(".site-header"),
    document.querySelector(".site-footer"), document.querySelector(".page-title")];
  function syncToggle() {
    var button = col && col.querySelector(".result-toggle");
    if (!button) { return; }
    var open = col.classList.contains("expanded");
    // While the full result covers the screen, focus cannot land on what it hides (WCAG 2.4.11).
    behind.forEach(function (el) { if (el) { el.inert = open; } });
    button.setAttribute("aria-expanded", open ? "true" : "false");
    // The words come from the page (data-open, data-closed, data-hint: in its language), never case data.
    button.textContent = open ? (button.dataset.open || "Close") : (button.dataset.closed || "Full result");
    if (open) {
      var hint = document.createElement("span");
      hint.className = "visually-hidden";
      hint.textContent = button.dataset.hint || " the full result";
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
      var link = t && t.closest ? t.closest("a[href]") : null;
      if (link && link.getAttribute("href").charAt(0) !== "#") {
        try { sessionStorage.setItem(KEEP, "1"); } catch (e) { /* no restore */ }
      }
      // A link in the result to a field: close the phone sheet so the field shows.
      if (t && t.tagName === "A" && (t.getAttribute("href") || "").charAt(0) === "#") {
        col.classList.remove("expanded");
        syncToggle();
        var target = document.getElementById(t.getAttribute("href").slice(1));
        var details = target && target.closest("details");
        if (details) { details.open = true; }
      }
      if (t && t.classList && t.classList.contains("copy-btn")) { copy(t); }
    });
  }

  function copy(button) {
    var area = document.getElementById(button.getAttribute("data-copy"));
    var status = col.querySelector(".copy-status");
    var done = function () { status.textContent = "Copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done, function () { area.select(); status.textContent = "Press Ctrl+C to copy."; });
    } else {
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { status.textContent = "Press Ctrl+C to copy."; }
    }
  }

  // Back, forward and reload: put the case back and ask for the answer again. Only then:
  // arriving afresh (the menu, the brand link, a new patient) starts with an empty form.
  function cameBackOrReloaded(event) {
    if (event.persisted) { return true; }
    var nav = window.performance && performance.getEntriesByType
      ? performance.getEntriesByType("navigation")[0] : null;
    return !!nav && (nav.type === "back_forward" || nav.type === "reload");
  }
  // A link out of the result (a differential, a treatment) keeps the case for the way back,
  // however the clinician comes back; any other arrival starts a new case.
  var KEEP = "poemsaid.keep";
  function keptForReturn() {
    var kept = false;
    try { kept = sessionStorage.getItem(KEEP) === "1"; sessionStorage.removeItem(KEEP); } catch (e) { kept = false; }
    return kept;
  }
  window.addEventListener("pageshow", function (event) {
    var kept = keptForReturn();
    if (!kept && !cameBackOrReloaded(event)) {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      return;
    }
    if (restore()) {
      var note = document.getElementById("restored");
      if (note) { note.hidden = false; }
      if (window.htmx) { window.htmx.trigger(form, "recompute"); }
    }
  });
  arrange();
})();
