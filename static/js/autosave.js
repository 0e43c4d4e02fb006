// Autosave: post each changed question as JSON; show "Saved at" or the conflict, keep the text.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var status = document.getElementById("autosave-status");
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!form || !status || !window.fetch || !form.dataset.autosave) { return; }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  // Read an answer the way its item type's widget says (data-read: value, list, rows, agreement).
  function valueOf(fieldset) {
    var id = fieldset.dataset.item, read = fieldset.dataset.read;
    if (read === "rows") {
      var rows = [];
      fieldset.querySelectorAll("tbody tr[data-row]").forEach(function (tr) {
        var row = {};
        tr.querySelectorAll("input, select").forEach(function (el) {
          var col = el.name.split("-").slice(2).join("-");
          if (el.value !== "") { row[col] = el.value; }
        });
        if (Object.keys(row).length) { rows.push(row); }
      });
      return rows;
    }
    if (read === "agreement") {
      return {agreed: form.elements[id + "-agreed"].checked,
              name: form.elements[id + "-name"].value, role: form.elements[id + "-role"].value};
    }
    if (read === "list") {
      return Array.prototype.map.call(
        fieldset.querySelectorAll('input[name="' + id + '"]:checked'), function (el) { return el.value; });
    }
    var checked = fieldset.querySelector('input[name="' + id + '"]:checked');
    if (checked) { return checked.value; }
    var el = form.elements[id];
    return el && el.value !== undefined ? el.value : null;
  }

  function save(fieldset) {
    var id = fieldset.dataset.item;
    var version = form.elements[id + "__version"];
    var note = form.elements[id + "__justification"];
    var body = {item_id: id, value: valueOf(fieldset), request_id: uuid(),
                // An empty version field means "no answer when the page loaded": 0, so a colleague's
                // first answer saved meanwhile is a conflict, not overwritten.
                version: version ? (version.value ? parseInt(version.value, 10) : 0) : null};
    if (note) { body.justification = note.value; }
    status.textContent = status.dataset.saving || "…";
    return fetch(form.dataset.autosave, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": meta ? meta.content : ""},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return {code: response.status, data: data}; });
    }).then(function (result) {
      var error = document.getElementById(id + "-error");
      if (result.code === 200) {
        if (version) { version.value = result.data.version; }
        if (error) { error.textContent = ""; }
        status.textContent = result.data.message;
      } else {
        var text = result.data.message || "";
        if (result.data.problems) {
          text = Object.keys(result.data.problems).map(function (k) {
            return result.data.problems[k]; }).join(" ");
        }
        if (error) { error.textContent = text; }
        status.textContent = text;
      }
    }).catch(function () {
      status.textContent = status.dataset.offline || "Not saved: offline. Use \"Save section\".";
    });
  }

  var timers = {}, waiting = {};
  function schedule(event) {
    var fieldset = event.target.closest("fieldset[data-item]");
    if (!fieldset || fieldset.hidden) { return; }
    var id = fieldset.dataset.item;
    clearTimeout(timers[id]);
    waiting[id] = fieldset;
    timers[id] = setTimeout(function () { delete waiting[id]; save(fieldset); }, 600);
  }
  form.addEventListener("change", schedule);

  // A row button or "Save section" posts the whole page, and leaving the page cancels the saves
  // still waiting for their delay ("Add a row" re-renders without storing): send those first, then
  // submit with the same button. The fresh versions they return travel with the form.
  var flushed = false;
  form.addEventListener("submit", function (event) {
    var ids = Object.keys(waiting);
    if (flushed || !ids.length || !form.requestSubmit) { return; }
    event.preventDefault();
    flushed = true;
    var submitter = event.submitter;
    Promise.all(ids.map(function (id) {
      clearTimeout(timers[id]);
      var fieldset = waiting[id];
      delete waiting[id];
      return save(fieldset);
    })).then(function () { form.requestSubmit(submitter || undefined); });
  });
}());
