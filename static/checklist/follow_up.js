// The follow-up page's behaviour on top of htmx (which posts the flowsheet and swaps the
// answer). Without this file the form still posts: "Add visit", "Remove" and "Show result"
// are submit buttons and the page comes back with the result. Nothing here sends a case
// anywhere but to the page's own result view; files are written and read in the browser.
(function () {
  "use strict";
  var form = document.getElementById("fu-form");
  if (!form) { return; }
  document.documentElement.classList.add("has-js");
  var KEY = "poemsaid.follow_up";
  var KEEP = "poemsaid.follow_up.keep";
  var LOCAL = "urn:poemsaid:follow-up";
  var LOINC = "http://loinc.org";
  var UCUM = "http://unitsofmeasure.org";
  var col = document.getElementById("fu-result-col");
  var sheet = document.getElementById("fu-sheet");
  var txTable = document.getElementById("fu-tx");
  // htmx settles "style" between the old and new answer by setting it as an attribute, which
  // the strict CSP refuses (and reports): nothing here has a style attribute to settle.
  if (window.htmx) { window.htmx.config.attributesToSettle = ["class"]; }
  var loinc = {};
  try { loinc = JSON.parse(form.getAttribute("data-loinc") || "{}"); } catch (e) { loinc = {}; }

  // Every word this script writes comes from the page (data-w-*, in its language; "{n}" is a number).
  function word(key, n, u, fallback) {
    var w = form.getAttribute("data-w-" + key) || fallback;
    return w.split("{n}").join(n === undefined ? "" : String(n)).split("{u}").join(u === undefined ? "" : String(u));
  }

  function count(name) { return parseInt(form.elements[name].value, 10) || 1; }
  function setCount(name, n) { form.elements[name].value = String(n); }
  function recompute() { if (window.htmx) { window.htmx.trigger(form, "recompute"); } }

  // --- Columns (visits) and rows (treatments), renumbered as the server does (forms.edit). ---
  function retag(root, prefix, from, to) {
    var re = new RegExp("\\b" + prefix + from + "__", "g");
    var head = prefix === "v" ? "visit" : "treatment";
    var sep = word("sep", 0, 0, ", ");
    var fromHead = word(head, from, 0, (prefix === "v" ? "Visit " : "Treatment ") + "{n}") + sep;
    var toHead = word(head, to, 0, (prefix === "v" ? "Visit " : "Treatment ") + "{n}") + sep;
    var all = [root].concat(Array.prototype.slice.call(root.querySelectorAll("*")));
    all.forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v) { el.setAttribute(a, v.replace(re, prefix + to + "__")); }
      });
      var label = el.getAttribute("aria-label");
      if (label && label.indexOf(fromHead) === 0) {
        el.setAttribute("aria-label", toHead + label.slice(fromHead.length));
      }
      if (el.getAttribute("value") === "remove_" + prefix + from) { el.setAttribute("value", "remove_" + prefix + to); el.value = "remove_" + prefix + to; }
      if (el.getAttribute("data-col") === String(from) && prefix === "v") { el.setAttribute("data-col", String(to)); }
      if (el.getAttribute("data-row") === String(from) && prefix === "t") { el.setAttribute("data-row", String(to)); }
    });
    root.querySelectorAll(".visit-name").forEach(function (s) { s.textContent = word("visit", to, 0, "Visit {n}"); });
    root.querySelectorAll(".fu-remove .visually-hidden").forEach(function (s) { s.textContent = word("remove-visit", to, 0, " visit {n}"); });
    root.querySelectorAll(".tx-line").forEach(function (s) { s.textContent = String(to); });
    root.querySelectorAll(".fu-remove-tx .visually-hidden").forEach(function (s) { s.textContent = word("remove-treatment", to, 0, " treatment {n}"); });
  }

  function blank(root) {
    root.querySelectorAll("input").forEach(function (el) { el.value = ""; el.removeAttribute("aria-invalid"); });
    root.querySelectorAll("select").forEach(function (el) {
      if (!el.classList.contains("unit")) { el.selectedIndex = 0; }
      el.removeAttribute("aria-invalid");
    });
    root.querySelectorAll(".field-msg").forEach(function (p) { p.textContent = ""; p.className = "field-msg"; });
  }

  function addVisit() {
    var n = count("visits");
    sheet.querySelectorAll("tr").forEach(function (tr) {
      var group = tr.querySelector("th[colspan]");
      if (group) { group.setAttribute("colspan", String(n + 2)); return; }
      var cells = tr.querySelectorAll('[data-col="' + n + '"]');
      var last = cells[cells.length - 1];
      if (!last) { return; }
      var copy = last.cloneNode(true);
      retag(copy, "v", n, n + 1);
      // A unit select keeps the previous visit's unit: the same laboratory, most often.
      copy.querySelectorAll("select.unit").forEach(function (sel, i) {
        var before = last.querySelectorAll("select.unit")[i];
        if (before) { sel.value = before.value; }
      });
      blank(copy);
      last.parentNode.insertBefore(copy, last.nextSibling);
    });
    setCount("visits", n + 1);
    var date = document.getElementById("id_v" + (n + 1) + "__date");
    if (date) { date.focus(); }
  }

  function removeVisit(k) {
    var n = count("visits");
    if (n <= 1) { blank(sheet); setCount("visits", 1); return; }
    sheet.querySelectorAll('[data-col="' + k + '"]').forEach(function (el) { el.parentNode.removeChild(el); });
    for (var j = k + 1; j <= n; j++) {
      sheet.querySelectorAll('[data-col="' + j + '"]').forEach(function (el) { retag(el, "v", j, j - 1); });
    }
    sheet.querySelectorAll("th[colspan]").forEach(function (th) { th.setAttribute("colspan", String(n)); });
    setCount("visits", n - 1);
    var head = sheet.querySelector('th[data-col="' + Math.min(k, n - 1) + '"] button');
    if (head) { head.focus(); }
  }

  function addTreatment() {
    var n = count("treatments");
    var last = txTable.querySelector('tr[data-row="' + n + '"]');
    var copy = last.cloneNode(true);
    retag(copy, "t", n, n + 1);
    blank(copy);
    last.parentNode.insertBefore(copy, last.nextSibling);
    setCount("treatments", n + 1);
    var type = document.getElementById("id_t" + (n + 1) + "__type");
    if (type) { type.focus(); }
  }

  function removeTreatment(k) {
    var n = count("treatments");
    if (n <= 1) { blank(txTable); return; }
    var row = txTable.querySelector('tr[data-row="' + k + '"]');
    row.parentNode.removeChild(row);
    for (var j = k + 1; j <= n; j++) {
      var r = txTable.querySelector('tr[data-row="' + j + '"]');
      if (r) { retag(r, "t", j, j - 1); }
    }
    setCount("treatments", n - 1);
  }

  function setColumns(visits, treatments) {
    while (count("visits") < visits) { addVisit(); }
    while (count("visits") > visits) { removeVisit(count("visits")); }
    while (count("treatments") < treatments) { addTreatment(); }
    while (count("treatments") > treatments) { removeTreatment(count("treatments")); }
  }

  form.addEventListener("click", function (event) {
    var b = event.target && event.target.closest ? event.target.closest('button[name="action"]') : null;
    if (!b) { return; }
    event.preventDefault();
    var v = b.value, m;
    if (v === "add_visit") { addVisit(); }
    else if (v === "add_treatment") { addTreatment(); }
    else if ((m = /^remove_v(\d+)$/.exec(v))) { removeVisit(parseInt(m[1], 10)); }
    else if ((m = /^remove_t(\d+)$/.exec(v))) { removeTreatment(parseInt(m[1], 10)); }
    save();
    recompute();
  });

  // --- The case survives Back and reload, in this tab only (sessionStorage). ---
  function pairs() {
    var out = [];
    new FormData(form).forEach(function (value, name) { out.push([name, String(value)]); });
    return out;
  }
  function save() {
    try { sessionStorage.setItem(KEY, JSON.stringify(pairs())); } catch (e) { /* private mode */ }
  }
  function fill(given) {
    setColumns(parseInt(given.visits, 10) || 1, parseInt(given.treatments, 10) || 1);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.tagName === "BUTTON") { return; }
      if (el.name in given) { el.value = given[el.name]; }
      else if (el.name !== "units" && !el.classList.contains("unit")) { el.value = ""; }
    });
  }
  function restore() {
    var raw = null;
    try { raw = sessionStorage.getItem(KEY); } catch (e) { return false; }
    if (!raw) { return false; }
    var list;
    try { list = JSON.parse(raw); } catch (e) { return false; }
    var given = {};
    list.forEach(function (p) { given[p[0]] = p[1]; });
    fill(given);
    return true;
  }
  form.addEventListener("input", save);
  form.addEventListener("change", function (event) {
    if (event.target && event.target.id === "fu-open") { return; }
    if (event.target && event.target.name === "units") { applyUnits(); }
    save();
  });
  document.querySelectorAll(".clear-form").forEach(function (a) {
    a.addEventListener("click", function () {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
    });
  });
  // SI or US: only the unit of an empty value changes; a typed value keeps its own.
  var US = { m_protein_g_dl: "g/dL" };
  var SI = { m_protein_g_dl: "g/L" };
  function applyUnits() {
    var table = form.elements.units.value === "US" ? US : SI;
    form.querySelectorAll("select.unit").forEach(function (sel) {
      var name = sel.name.replace(/__unit$/, "");
      var code = name.replace(/^v\d+__/, "");
      var input = form.elements[name];
      if (input && input.value === "" && table[code]) { sel.value = table[code]; }
    });
  }

  function cameBackOrReloaded(event) {
    if (event.persisted) { return true; }
    var nav = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    return !!nav && (nav.type === "back_forward" || nav.type === "reload");
  }
  window.addEventListener("pageshow", function (event) {
    var kept = false;
    try { kept = sessionStorage.getItem(KEEP) === "1"; sessionStorage.removeItem(KEEP); } catch (e) { kept = false; }
    // A page the server filled (a posted form, or the checklist's values) is the case now.
    if (form.getAttribute("data-posted") === "1" && !cameBackOrReloaded(event)) { save(); return; }
    if (!kept && !cameBackOrReloaded(event)) {
      try { sessionStorage.removeItem(KEY); } catch (e) { /* nothing kept */ }
      return;
    }
    if (restore()) {
      var note = document.getElementById("fu-restored");
      if (note) { note.hidden = false; }
      recompute();
    }
  });

  // --- After each swap: field messages came out of band; mark the fields. ---
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "fu-result") { return; }
    form.querySelectorAll(".field-msg").forEach(function (p) { p.textContent = ""; p.className = "field-msg"; });
  });
  var openInResult = [];
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "fu-result") { return; }
    openInResult = Array.prototype.map.call(event.detail.target.querySelectorAll("details[id][open]"), function (d) { return d.id; });
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    openInResult.forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
    openInResult = [];
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".field-msg.is-error").forEach(function (p) {
      var input = document.getElementById("id_" + p.id.slice(4));
      if (input) { input.setAttribute("aria-invalid", "true"); }
    });
    syncToggle();
  });
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.body.addEventListener(name, function (event) {
      if (event.detail && event.detail.elt !== form) { return; }
      var panel = document.getElementById("fu-result");
      if (!panel || panel.classList.contains("stale")) { return; }
      panel.classList.add("stale");
      var warning = document.createElement("p");
      warning.className = "stale-warning";
      warning.setAttribute("role", "alert");
      warning.textContent = word("stale", 0, 0, "Could not update: this answer is for earlier entries. Change any value or press Show result to try again.");
      panel.insertBefore(warning, panel.firstChild);
      var status = document.getElementById("fu-live-status");
      if (status) { status.textContent = word("stale-status", 0, 0, "Could not update the answer"); }
    });
  });

  // --- On a phone the answer is a bar at the bottom that opens into the full result. ---
  var behind = [document.querySelector(".form-col"), document.querySelector(".site-header"),
    document.querySelector(".site-footer"), document.querySelector(".page-title")];
  function syncToggle() {
    var button = col && col.querySelector(".result-toggle");
    if (!button) { return; }
    var open = col.classList.contains("expanded");
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
  function copy(button) {
    var area = document.getElementById(button.getAttribute("data-copy"));
    var status = col.querySelector(".copy-status");
    var done = function () { status.textContent = word("copied", 0, 0, "Copied."); };
    var press = word("press-copy", 0, 0, "Press Ctrl+C to copy.");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done, function () { area.select(); status.textContent = press; });
    } else {
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { status.textContent = press; }
    }
  }
  var printButton = document.getElementById("fu-print");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }

  // --- Save to file / Open file: a FHIR R4 Bundle (collection) of Observations, built and read
  // here. LOINC codes come from the mapping content (data-loinc); a measure without a mapping
  // is saved with a local code and says so in its text. ---
  var status = document.getElementById("fu-file-status");
  function label(code) {
    var th = sheet.querySelector('tr[data-code="' + code + '"] th');
    return th ? th.textContent.trim() : code;
  }
  function codeFor(code) {
    var m = loinc[code];
    if (m) { return { coding: [{ system: LOINC, code: m.code, display: m.display }], text: label(code) }; }
    return { coding: [{ system: LOCAL, code: code, display: label(code) }],
      text: label(code) + " (local code: no LOINC mapping in the content)" };
  }
  function observation(code, day, value, unit) {
    var obs = { resourceType: "Observation", status: "final", code: codeFor(code), effectiveDateTime: day };
    var row = sheet.querySelector('tr[data-code="' + code + '"]');
    var input = form.elements["v1__" + code];
    var kind = input && input.tagName === "SELECT" ? "choice" : (input && input.type === "date" ? "date" : "text");
    var yesNo = input && input.tagName === "SELECT" && input.querySelector('option[value="yes"]');
    if (unit !== null) {
      var m = loinc[code] || {};
      var ucum = (m.ucum || {})[unit] || unit;
      obs.valueQuantity = { value: Number(value), unit: unit, system: UCUM, code: ucum };
    } else if (yesNo) {
      obs.valueBoolean = value === "yes";
    } else if (kind === "choice") {
      obs.valueCodeableConcept = { coding: [{ system: LOCAL, code: value }], text: value };
    } else if (kind === "date") {
      obs.valueDateTime = value;
    } else if (row && row.querySelector("input[inputmode]")) {
      obs.valueQuantity = { value: Number(value) };
    } else {
      obs.valueString = value;
    }
    return obs;
  }
  function bundle() {
    var entries = [], skipped = [], local = {};
    var n = count("visits");
    for (var k = 1; k <= n; k++) {
      var day = form.elements["v" + k + "__date"].value;
      var any = false;
      sheet.querySelectorAll("tr[data-code]").forEach(function (tr) {
        var code = tr.getAttribute("data-code");
        var el = form.elements["v" + k + "__" + code];
        if (!el || el.value === "") { return; }
        any = true;
        if (!day) { return; }
        var unitEl = form.elements["v" + k + "__" + code + "__unit"];
        var obs = observation(code, day, el.value, unitEl ? unitEl.value : null);
        if (!loinc[code]) { local[code] = true; }
        entries.push({ fullUrl: "urn:uuid:" + uuid(), resource: obs });
      });
      if (any && !day) { skipped.push(k); }
    }
    var t = count("treatments");
    for (var j = 1; j <= t; j++) {
      var type = form.elements["t" + j + "__type"].value;
      var start = form.elements["t" + j + "__start"].value;
      if (!type || !start) { continue; }
      var end = form.elements["t" + j + "__end"].value;
      var period = { start: start };
      if (end) { period.end = end; }
      entries.push({ fullUrl: "urn:uuid:" + uuid(), resource: {
        resourceType: "Observation", status: "final",
        code: { coding: [{ system: LOCAL, code: "treatment_line", display: "Line of treatment" }], text: "Line of treatment (local code)" },
        effectivePeriod: period,
        valueCodeableConcept: { coding: [{ system: LOCAL, code: type }], text: type },
        component: [{ code: { coding: [{ system: LOCAL, code: "tx_line" }], text: "Line" }, valueInteger: j }]
      } });
    }
    return { doc: { resourceType: "Bundle", type: "collection", timestamp: new Date().toISOString(),
      meta: { tag: [{ system: LOCAL, code: "poemsaid-follow-up" }] }, entry: entries },
      skipped: skipped, local: Object.keys(local) };
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx".replace(/x/g, function () { return (Math.random() * 16 | 0).toString(16); });
  }
  document.getElementById("fu-save").addEventListener("click", function () {
    var built = bundle();
    var blob = new Blob([JSON.stringify(built.doc, null, 1)], { type: "application/fhir+json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "poems-follow-up-" + new Date().toISOString().slice(0, 10) + ".json";
    document.body.appendChild(a);
    a.click();
    a.parentNode.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    var words = word("saved", built.doc.entry.length, 0, "Saved {n} observations.");
    if (built.local.length) { words += " " + word("saved-local", built.local.length, 0, "{n} measures have no LOINC mapping and were saved with a local code."); }
    if (built.skipped.length) { words += " " + word("saved-skipped", built.skipped.join(word("sep", 0, 0, ", ")), 0, "Visit {n} has no date and was not saved."); }
    status.textContent = words;
  });
  var byLoinc = {};
  Object.keys(loinc).forEach(function (code) {
    byLoinc[loinc[code].code] = code;
    (loinc[code].also || []).forEach(function (c) { byLoinc[c] = code; });
  });
  function read(doc) {
    if (!doc || doc.resourceType !== "Bundle") { throw new Error("not a FHIR Bundle"); }
    var visits = {}, treatments = [], unknown = 0;
    (doc.entry || []).forEach(function (e) {
      var r = e.resource || {};
      if (r.resourceType !== "Observation") { unknown++; return; }
      var coding = ((r.code || {}).coding || [])[0] || {};
      var code = coding.system === LOINC ? byLoinc[coding.code] : (coding.system === LOCAL ? coding.code : null);
      if (code === "treatment_line") {
        var line = ((r.component || [])[0] || {}).valueInteger || treatments.length + 1;
        treatments.push({ line: line, type: (((r.valueCodeableConcept || {}).coding || [])[0] || {}).code || "",
          start: (r.effectivePeriod || {}).start || "", end: (r.effectivePeriod || {}).end || "" });
        return;
      }
      if (!code || !sheet.querySelector('tr[data-code="' + code + '"]')) { unknown++; return; }
      var day = String(r.effectiveDateTime || "").slice(0, 10);
      if (!day) { unknown++; return; }
      var v = visits[day] = visits[day] || {};
      if (r.valueQuantity) {
        v[code] = String(r.valueQuantity.value);
        var unit = r.valueQuantity.unit;
        var sel = form.elements["v1__" + code + "__unit"];
        var ours = sel && Array.prototype.some.call(sel.options, function (o) { return o.value === unit; });
        if (sel && !ours) { unit = ((loinc[code] || {}).from_ucum || {})[r.valueQuantity.code] || unit; }
        if (sel) { v[code + "__unit"] = unit; }
      } else if (typeof r.valueBoolean === "boolean") { v[code] = r.valueBoolean ? "yes" : "no"; }
      else if (r.valueCodeableConcept) { v[code] = ((r.valueCodeableConcept.coding || [])[0] || {}).code || ""; }
      else if (r.valueDateTime) { v[code] = String(r.valueDateTime).slice(0, 10); }
      else if (typeof r.valueString === "string") { v[code] = r.valueString; }
      else if (typeof r.valueInteger === "number") { v[code] = String(r.valueInteger); }
    });
    var days = Object.keys(visits).sort();
    var given = { visits: String(Math.max(1, days.length)), treatments: String(Math.max(1, treatments.length)),
      units: form.elements.units.value };
    days.forEach(function (day, i) {
      given["v" + (i + 1) + "__date"] = day;
      Object.keys(visits[day]).forEach(function (code) { given["v" + (i + 1) + "__" + code] = visits[day][code]; });
    });
    treatments.sort(function (a, b) { return a.line - b.line; }).forEach(function (t, i) {
      given["t" + (i + 1) + "__type"] = t.type;
      given["t" + (i + 1) + "__start"] = t.start;
      given["t" + (i + 1) + "__end"] = t.end;
    });
    return { given: given, visits: days.length, unknown: unknown };
  }
  document.getElementById("fu-open").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () {
      var got;
      try { got = read(JSON.parse(String(reader.result))); } catch (e) {
        status.textContent = word("open-failed", 0, 0, "Could not open the file: it is not a follow-up saved by POEMSaid (a FHIR Bundle).");
        return;
      }
      fill(got.given);
      save();
      recompute();
      status.textContent = got.unknown ? word("opened-unread", got.visits, got.unknown, "Opened {n} visits; {u} entries not read.") : word("opened", got.visits, 0, "Opened {n} visits.");
      event.target.value = "";
    };
    reader.readAsText(file);
  });
})();
