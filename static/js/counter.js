// Character counters: "N characters left" under each text with a limit (data-maxlength), said
// politely to screen readers; over the limit it says by how much (the server refuses, never cuts).
(function () {
  "use strict";
  var counters = document.querySelectorAll(".char-count[data-limit]");
  if (!counters.length) { return; }
  var format = window.Intl && Intl.NumberFormat
    ? new Intl.NumberFormat(document.documentElement.lang || undefined) : null;

  function number(n) { return format ? format.format(n) : String(n); }

  function update(field, counter) {
    var limit = parseInt(counter.dataset.limit, 10);
    var left = limit - field.value.length;
    var over = left < 0;
    var one = Math.abs(left) === 1;
    var pattern = over ? (one ? counter.dataset.overOne : counter.dataset.over)
                       : (one ? counter.dataset.leftOne : counter.dataset.left);
    var text = pattern.replace("{n}", number(Math.abs(left)));
    if (counter.textContent !== text) { counter.textContent = text; }
    counter.classList.toggle("char-count--over", over);
    if (over) {
      field.setAttribute("aria-invalid", "true");
      field.dataset.countedOver = "1";
    } else if (field.dataset.countedOver) {  // only undo what the counter set, not a server error
      field.removeAttribute("aria-invalid");
      delete field.dataset.countedOver;
    }
  }

  counters.forEach(function (counter) {
    var field = document.getElementById(counter.id.replace(/-count$/, ""));
    if (!field) { return; }
    // Said once when typing pauses, not at every key press.
    var timer = null;
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { update(field, counter); }, 300);
    });
    update(field, counter);
  });
}());
