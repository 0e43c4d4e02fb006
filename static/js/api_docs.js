// Start Swagger UI on the API reference page (templates/api/docs.html); the spec URL is in data-spec.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  if (!node || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: node.getAttribute("data-spec"),
    domNode: node,
    deepLinking: true,
    persistAuthorization: false
  });
}());
