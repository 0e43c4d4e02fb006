// Live show/hide from the engine's rule ASTs; the server stays the authority on every save.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  var data = document.getElementById("visibility-rules");
  if (!form || !data) { return; }
  var rules = JSON.parse(data.textContent || "{}");
  var UNKNOWN = {};

  function value(id) {
    var fieldset = document.getElementById("q-" + id);
    if (!fieldset || fieldset.hidden) { return null; }
    var checked = form.querySelectorAll('input[name="' + id + '"]:checked');
    if (checked.length) {
      if (fieldset.dataset.type === "multi_choice" || fieldset.dataset.type === "country_list") {
        return Array.prototype.map.call(checked, function (el) { return el.value; });
      }
      return checked[0].value;
    }
    var el = form.elements[id];
    if (el && el.value !== undefined && el.value !== "") {
      return fieldset.dataset.type === "number" ? Number(el.value) : el.value;
    }
    return fieldset.dataset.type === undefined ? UNKNOWN : null;
  }

  function ev(node) {
    switch (node.t) {
      case "lit": return node.v;
      case "ref": return value(node.id);
      case "list": return node.items.map(ev);
      case "not": var a = ev(node.arg); return a === UNKNOWN ? UNKNOWN : !a;
      case "op": return op(node);
      default: return UNKNOWN;
    }
  }

  function op(node) {
    var l = ev(node.left), r = ev(node.right);
    if (l === UNKNOWN || r === UNKNOWN) { return UNKNOWN; }
    switch (node.op) {
      case "and": return l === true && r === true;
      case "or": return l === true || r === true;
      case "==": return l === r;
      case "!=": return l !== r;
      case "<": return l !== null && r !== null && l < r;
      case "<=": return l !== null && r !== null && l <= r;
      case ">": return l !== null && r !== null && l > r;
      case ">=": return l !== null && r !== null && l >= r;
      case "in": return Array.isArray(r) && (Array.isArray(l) ? false : r.indexOf(l) >= 0);
      case "contains": return Array.isArray(l) && l.indexOf(r) >= 0;
      default: return UNKNOWN;
    }
  }

  function refresh() {
    Object.keys(rules).forEach(function (id) {
      var fieldset = document.getElementById("q-" + id);
      var shown = ev(rules[id]);
      if (!fieldset || shown === UNKNOWN) { return; }
      fieldset.hidden = shown !== true;
    });
  }
  form.addEventListener("change", refresh);
  form.addEventListener("input", refresh);

  // Tables: add and remove rows in the page (the buttons still work without JavaScript).
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=add_row]");
    if (!button) { return; }
    var table = form.querySelector('table[data-table="' + button.value + '"] tbody');
    var last = table && table.querySelector("tr[data-row]:last-of-type");
    var count = form.elements[button.value + "-rows"];
    if (!last || !count) { return; }  // no template row yet: let the server add one
    event.preventDefault();
    var index = parseInt(count.value, 10);
    var row = last.cloneNode(true);
    row.dataset.row = String(index);
    row.querySelectorAll("input, select, label, button").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) { el.setAttribute(attr, v.replace(/-\d+-/, "-" + index + "-")); }
      });
      if (el.name === "remove_row") { el.value = button.value + "-" + index; }
      if (el.tagName !== "BUTTON" && el.tagName !== "LABEL") { el.value = ""; }
    });
    table.appendChild(row);
    count.value = String(index + 1);
  });
  refresh();
}());
