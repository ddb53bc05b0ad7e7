// The API reference page (/api/docs): Swagger UI (vendored) renders /api/v1/openapi.json.
// A file of its own because the Content-Security-Policy forbids inline script.
(function () {
  "use strict";

  var root = document.getElementById("api-docs");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;

  // Follow the system's colour scheme: Swagger UI's dark theme is the `dark-mode` class on <html>.
  var dark = window.matchMedia("(prefers-color-scheme: dark)");
  function applyScheme() {
    document.documentElement.classList.toggle("dark-mode", dark.matches);
  }
  applyScheme();
  if (dark.addEventListener) dark.addEventListener("change", applyScheme);

  // "Try it out" from a signed-in browser sends the session cookie; writes through it also need the
  // session's CSRF token, which the page carries (empty when signed out: then use "Authorize" with
  // an API token).
  var csrf = root.getAttribute("data-csrf") || "";
  function addCsrf(req) {
    var method = (req.method || "GET").toUpperCase();
    var sameOrigin = new URL(req.url, window.location.href).origin === window.location.origin;
    if (csrf && sameOrigin && method !== "GET" && method !== "HEAD") {
      req.headers["X-CSRF-Token"] = csrf;
    }
    return req;
  }

  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    domNode: root,
    deepLinking: true,
    // No badge from an outside validator (the CSP would block it anyway).
    validatorUrl: null,
    requestInterceptor: addCsrf
  });
})();
