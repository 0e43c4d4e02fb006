// Evidence pack progress: poll the job's status and reload the page once it is done or failed.
(function () {
  "use strict";
  var box = document.getElementById("pack-status");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("pack-progress");
  var text = document.getElementById("pack-message");

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(poll, 5000); return; }
        if (bar) { bar.value = data.progress; bar.textContent = data.progress + " %"; }
        if (text) { text.textContent = data.progress + " % — " + data.message; }
        if (data.status === "done" || data.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
}());
