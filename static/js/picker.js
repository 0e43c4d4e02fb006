// Searchable picker over a long list of checkboxes (countries): a combobox with a filtered listbox
// (WAI-ARIA combobox pattern, list autocomplete) and the chosen entries as chips with remove
// buttons. The checkboxes stay in the form (hidden) and remain the source of truth: choosing or
// removing ticks them and fires "change", so autosave and the show/hide rules work as before, and
// without JavaScript the page keeps the plain checkboxes.
(function () {
  "use strict";
  var MAX_SHOWN = 50;
  var count = 0;

  function text(el, key, fallback) { return el.getAttribute(key) || fallback; }

  function enhance(box) {
    var boxes = Array.prototype.slice.call(box.querySelectorAll('input[type="checkbox"]'));
    if (!boxes.length || boxes[0].disabled) { return; }
    var n = ++count;
    var labelOf = function (cb) {
      var label = box.querySelector('label[for="' + cb.id + '"]');
      return label ? label.textContent.trim() : cb.value;
    };
    var fieldset = box.closest("fieldset");
    var legend = fieldset ? fieldset.querySelector("legend") : null;
    if (legend && !legend.id) { legend.id = "picker-legend-" + n; }

    var wrap = document.createElement("div");
    wrap.className = "picker";
    var chips = document.createElement("ul");
    chips.className = "picker__chips";
    chips.setAttribute("aria-label", text(box, "data-chosen-label", "Chosen"));
    var inputId = "picker-input-" + n, listId = "picker-list-" + n, hintId = "picker-hint-" + n;
    var searchLabel = document.createElement("label");
    searchLabel.setAttribute("for", inputId);
    searchLabel.className = "picker__label";
    searchLabel.textContent = text(box, "data-search-label", "Search and add");
    var input = document.createElement("input");
    input.type = "text";
    input.id = inputId;
    input.className = "picker__input";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-describedby", hintId);
    input.setAttribute("autocomplete", "off");
    var hint = document.createElement("p");
    hint.id = hintId;
    hint.className = "picker__hint muted small";
    hint.textContent = text(box, "data-hint", "Type to filter, arrow keys to move, Enter to add.");
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "picker__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-multiselectable", "true");
    if (legend) { list.setAttribute("aria-labelledby", legend.id); }
    list.hidden = true;
    var live = document.createElement("p");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    wrap.append(chips, searchLabel, input, hint, list, live);
    box.before(wrap);
    box.hidden = true;

    var active = -1, shown = [];

    function renderChips() {
      chips.textContent = "";
      boxes.filter(function (cb) { return cb.checked; }).forEach(function (cb) {
        var li = document.createElement("li");
        li.className = "chip picker__chip";
        var name = document.createElement("span");
        name.textContent = labelOf(cb);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "picker__remove";
        remove.textContent = "×";
        remove.setAttribute("aria-label", text(box, "data-remove-label", "Remove {name}").replace("{name}", labelOf(cb)));
        remove.addEventListener("click", function () {
          toggle(cb, false);
          input.focus();
        });
        li.append(name, remove);
        chips.append(li);
      });
      chips.hidden = !chips.children.length;
    }

    function toggle(cb, checked) {
      cb.checked = checked;
      cb.dispatchEvent(new Event("change", {bubbles: true}));
      live.textContent = text(box, checked ? "data-added" : "data-removed",
                              checked ? "{name} added" : "{name} removed").replace("{name}", labelOf(cb));
      renderChips();
      if (!list.hidden) { renderList(); }
    }

    function matches(cb, query) {
      if (!query) { return true; }
      var words = labelOf(cb).toLocaleLowerCase();
      var plain = words.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
      var q = query.toLocaleLowerCase(), qPlain = q.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
      return words.indexOf(q) !== -1 || plain.indexOf(qPlain) !== -1 || cb.value.toLowerCase() === q;
    }

    function renderList() {
      var query = input.value.trim();
      var code = query.toLowerCase();
      var exact = boxes.filter(function (cb) { return code && cb.value.toLowerCase() === code; });
      shown = exact.concat(boxes.filter(function (cb) {   // a typed code ("FR") comes first
        return exact.indexOf(cb) === -1 && matches(cb, query);
      })).slice(0, MAX_SHOWN);
      list.textContent = "";
      shown.forEach(function (cb, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.className = "picker__option" + (i === active ? " is-active" : "");
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", cb.checked ? "true" : "false");
        li.textContent = labelOf(cb);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { active = i; toggle(cb, !cb.checked); input.focus(); });
        list.append(li);
      });
      if (!shown.length) {
        var none = document.createElement("li");
        none.className = "picker__empty muted";
        none.textContent = text(box, "data-none", "No match");
        list.append(none);
      }
      if (active >= shown.length) { active = shown.length - 1; }
      if (active >= 0) {
        input.setAttribute("aria-activedescendant", listId + "-" + active);
        var el = document.getElementById(listId + "-" + active);
        if (el && el.scrollIntoView) { el.scrollIntoView({block: "nearest"}); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function open() {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      renderList();
    }

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    input.addEventListener("input", function () { active = 0; open(); });
    input.addEventListener("focus", function () { if (input.value) { open(); } });
    input.addEventListener("blur", function () { close(); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { active = 0; open(); return; }
        var step = event.key === "ArrowDown" ? 1 : -1;
        active = Math.max(0, Math.min(shown.length - 1, active + step));
        renderList();
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0 && shown[active]) {
          event.preventDefault();       // never submit the section form from the picker
          toggle(shown[active], !shown[active].checked);
        } else {
          event.preventDefault();
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); close(); } else { input.value = ""; }
      }
    });
    renderChips();
  }

  document.querySelectorAll(".choices--many").forEach(enhance);
}());
