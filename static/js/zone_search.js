// A search box over a long <select data-searchable> (the profile's time zones): typing hides the
// options that do not match (case, accents, "_" and "/" ignored) and picks the first match unless a
// matching zone is already chosen ("Automatic" stays offered); the number of matches is said politely.
// Without JavaScript the plain select still works (and typing on a focused select jumps to an option).
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[_/]/g, " ").toLowerCase();
  }

  function enhance(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-search";
    box.setAttribute("autocomplete", "off");
    box.setAttribute("aria-controls", select.id);
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.textContent = select.dataset.searchLabel;
    var status = document.createElement("p");
    status.className = "muted small";
    status.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(status, select);
    var keep = select.options[0];  // "Automatic" stays offered whatever is typed

    box.addEventListener("input", function () {
      var words = fold(box.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var text = fold(option.value + " " + option.text);
        var match = option === keep || words.every(function (w) { return text.indexOf(w) !== -1; });
        option.hidden = !match;
        if (match && option !== keep) {
          shown += 1;
          if (!first) { first = option; }
        }
      });
      var chosen = select.selectedOptions[0];
      if (first && words.length && (!chosen || chosen === keep || chosen.hidden)) {
        first.selected = true;  // typing a city means choosing it, unless a match is already chosen
      }
      var pattern = shown === 1 ? select.dataset.searchCountOne : select.dataset.searchCount;
      status.textContent = words.length ? pattern.replace("{n}", String(shown)) : "";
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-searchable]"), enhance);
})();
