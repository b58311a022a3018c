// Live result for the checklist (progressive enhancement). Without this file
// the form posts and the page comes back with the result.
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  var panel = document.getElementById("result");
  if (!form || !panel || !window.fetch) { return; }
  document.documentElement.classList.add("has-js");
  var url = form.getAttribute("data-result-url");
  var timer = null;
  var inflight = null;
  var seq = 0;

  // Point a field's aria-describedby at its help text plus the given message ids,
  // keeping whatever the server rendered (the help text) as the base.
  function describe(input, ids) {
    var base = input.getAttribute("data-describedby-base");
    if (base === null) {
      base = input.getAttribute("aria-describedby") || "";
      input.setAttribute("data-describedby-base", base);
    }
    var value = [base].concat(ids).join(" ").trim();
    if (value) { input.setAttribute("aria-describedby", value); } else { input.removeAttribute("aria-describedby"); }
  }

  function showFieldMessages(header) {
    var data = { errors: {}, warnings: {} };
    if (header) { try { data = JSON.parse(header); } catch (e) { /* keep empty */ } }
    form.querySelectorAll(".live-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    form.querySelectorAll("[data-describedby-base]").forEach(function (el) { describe(el, []); });
    var extra = {};
    Object.keys(data.errors || {}).forEach(function (name) {
      var input = form.elements[name];
      if (!input || !input.closest) { return; }
      input.setAttribute("aria-invalid", "true");
      var msg = document.createElement("p");
      msg.className = "live-error invalid-feedback d-block small";
      msg.id = "live-error-" + name;
      msg.textContent = data.errors[name].join(" ");
      (extra[name] = extra[name] || []).push(msg.id);
      input.closest(".mb-3, .item").appendChild(msg);
    });
    form.querySelectorAll(".field-warning").forEach(function (el) {
      var code = el.id.replace("warning-", "");
      var text = (data.warnings || {})[code];
      el.textContent = text || "";
      el.hidden = !text;
      if (text) { (extra[code] = extra[code] || []).push(el.id); }
    });
    Object.keys(extra).forEach(function (name) {
      var input = form.elements[name];
      if (input && input.setAttribute) { describe(input, extra[name]); }
    });
  }

  function refresh() {
    var mine = ++seq;
    if (inflight) { inflight.abort(); }
    inflight = new AbortController();
    fetch(url, { method: "POST", body: new FormData(form), signal: inflight.signal, headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        var header = response.headers.get("X-Field-Messages");
        return response.text().then(function (html) { return { html: html, header: header }; });
      })
      .then(function (res) {
        if (mine !== seq) { return; }
        var open = panel.querySelector("details.copy-note[open]") !== null;
        panel.innerHTML = res.html;
        if (open) { var d = panel.querySelector("details.copy-note"); if (d) { d.open = true; } }
        showFieldMessages(res.header);
      })
      .catch(function () { /* aborted or offline: the submit button still works */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("change", schedule);
  form.addEventListener("input", function (event) {
    if (event.target && event.target.type === "text") { schedule(); }
  });
  form.addEventListener("submit", function (event) {
    // The main button refreshes in place; the print button opens the print view.
    var submitter = event.submitter;
    if (submitter && submitter.getAttribute("formaction")) { return; }
    event.preventDefault();
    refresh();
    panel.focus && panel.setAttribute("tabindex", "-1");
    panel.focus();
  });
  panel.addEventListener("click", function (event) {
    if (!event.target || event.target.id !== "copy-report") { return; }
    var area = document.getElementById("report-text");
    var status = document.getElementById("copy-status");
    var done = function () { status.textContent = "Copied."; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done, function () { area.select(); status.textContent = "Press Ctrl+C to copy."; });
    } else {
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { status.textContent = "Press Ctrl+C to copy."; }
    }
  });
})();
