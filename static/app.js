// agentdesk's only script (no inline JS: the CSP forbids it). Everything works without it;
// it adds local times, confirmations, copy buttons and keeps htmx's CSRF header current.
(function () {
  "use strict";

  // Lets the stylesheet hide what only the script-less page needs (e.g. filter "Apply" buttons).
  document.documentElement.classList.add("js");

  // Show <time datetime> values in the viewer's own timezone.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.textContent;
      el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    });
  }

  // After a boosted navigation the body's hx-headers would keep the old page's token; refresh it
  // from the new content (the token changes at sign-in).
  function syncCsrf() {
    var main = document.getElementById("main");
    var token = main && main.getAttribute("data-csrf");
    if (token) document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRF-Token": token }));
  }

  // "Print" buttons (invoices, receipts) open the browser's print dialog.
  document.addEventListener("click", function (ev) {
    var btn = ev.target && ev.target.closest && ev.target.closest("[data-print]");
    if (btn) { ev.preventDefault(); window.print(); }
  });

  // Forms with data-confirm ask first (with or without htmx).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
    }
  }, true);

  // The new-user form: the customer fields matter only for the customer role.
  function customerChoice(root) {
    var box = root.querySelector("#customer-choice");
    if (!box) return;
    var form = box.closest("form");
    function update() {
      var checked = form.querySelector("input[name=role]:checked");
      box.hidden = !(checked && checked.value === "customer");
    }
    form.querySelectorAll("input[name=role]").forEach(function (r) { r.addEventListener("change", update); });
    update();
  }

  // Focus the error summary so keyboard and screen-reader users hear what went wrong, unless the
  // answer put the focus somewhere on purpose (autofocus: where an editor edit landed). Only
  // summaries made to take the focus (tabindex): a live one must not pull it away from typing.
  function focusErrors(root) {
    if (root.matches && root.matches("[autofocus]")) return;
    if (root.querySelector("[autofocus]")) return;
    var summary = root.querySelector(".error-summary[tabindex]");
    if (summary) summary.focus();
  }

  // Editor rows remember being folded (a hidden input the server reads), so a folded row stays
  // folded after the editor is swapped by an edit.
  document.addEventListener("toggle", function (ev) {
    var row = ev.target;
    if (!row || row.tagName !== "DETAILS") return;
    var mark = row.querySelector(":scope > input[data-fold]");
    if (mark) mark.value = row.open ? "" : "1";
  }, true);

  // While an edit swaps the whole editor (or a row), the old and new copies are briefly both in the page; the
  // browser's scroll anchoring would follow the old copy to the end of the page. Without it, the new
  // copy lands exactly where the old one was: the page does not move.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var t = ev.detail.target;
    if (t && (t.id === "editor" || t.classList.contains("field-row"))) document.documentElement.classList.add("swapping");
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.documentElement.classList.remove("swapping");
  });

  // A problem's link opens the folded rows around its input, then focuses it (above the sticky bar).
  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest(".error-summary a[href^='#']");
    var target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    ev.preventDefault();
    for (var d = target.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "center" });
  });

  // Copy buttons (data-copy="#id") appear only where the Clipboard API works; without them the
  // value stays on the page to select by hand.
  function copyButtons(root) {
    if (!navigator.clipboard || !window.isSecureContext) return;
    root.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button[data-copy]");
    var source = button && document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var status = button.parentNode.querySelector(".copy-status");
    function say(text) { if (status) status.textContent = text; }
    navigator.clipboard.writeText(source.textContent.trim()).then(
      function () { say("Copied."); },
      function () { say("Could not copy: select the text and copy it yourself."); }
    );
  });

  function init(root) {
    localTimes(root);
    copyButtons(root);
    customerChoice(root);
    focusErrors(root);
  }

  // Live validation swaps error slots (<small id="X-error">) out of band: keep the input's
  // aria-invalid in step so screen readers announce the same state the eye sees.
  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var slot = ev.target; // the new element (detail.target is the one it replaced)
    if (!slot || !slot.id || slot.id.slice(-6) !== "-error") return;
    var input = document.getElementById(slot.id.slice(0, -6));
    if (!input) return;
    if (slot.textContent.trim()) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (ev) {
    syncCsrf();
    init(ev.detail && ev.detail.elt ? ev.detail.elt : document);
  });
})();
