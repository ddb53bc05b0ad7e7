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

  // Focus the error summary so keyboard and screen-reader users hear what went wrong.
  function focusErrors(root) {
    var summary = root.querySelector(".error-summary");
    if (summary) summary.focus();
  }

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
