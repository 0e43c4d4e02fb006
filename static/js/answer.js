// Live show/hide: replays the engine's visibility plan (vendorcheck/questionnaire/client.py) on
// the form's values. It only evaluates ASTs the server compiled; the server stays the authority on
// every save, and tests/unit/questionnaire/test_js_conditions.py checks both agree.
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;               // node (tests) requires the evaluator
  } else if (root && root.document) {
    root.vendorcheckRules = api;
    api.attach(root.document);
  }
}(this, function () {
  "use strict";

  // --- values: null, booleans, numbers, texts, arrays (lists, tables), rows, PyDate, Duration ---

  var DAY_MS = 86400000;

  function PyDate(n) { this.n = n; }   // days since 1970-01-01 (UTC)

  function makeDate(y, m, d) {
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) { return null; }
    var t = new Date(0);
    t.setUTCFullYear(y, m - 1, d);
    if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) {
      return null;                       // 31 April and the like
    }
    return new PyDate(Math.round(t.getTime() / DAY_MS));
  }

  function ymd(day) {
    var t = new Date(day.n * DAY_MS);
    return [t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate()];
  }

  var MIN_DAY = makeDate(1, 1, 1).n, MAX_DAY = makeDate(9999, 12, 31).n;

  function dayOrNull(n) { return n >= MIN_DAY && n <= MAX_DAY ? new PyDate(n) : null; }

  function Duration(days, years) { this.days = days; this.years = years; }

  function isNull(v) { return v === null || v === undefined; }

  function has(object, key) { return Object.prototype.hasOwnProperty.call(object, key); }

  function roundHalfEven(x) {          // Python's round()
    if (Math.abs(x % 1) === 0.5) { return 2 * Math.round(x / 2); }
    return Math.round(x);
  }

  // --- converters: what a stored (or typed) answer means to the rules, as each item type's
  // `convert` does in Python (vendorcheck/questionnaire/itemtypes/); a type names its converter
  // in its widget, and the plan gives that name with each step.

  var DIGIT = /^\p{Nd}$/u;
  var SPACE = "[\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var PY_SPACE = new RegExp("^" + SPACE + "+|" + SPACE + "+$", "g");  // str.strip()
  var NUMBER = /^-?\p{Nd}+(?:\.\p{Nd}+)?$/u;
  var ISO_DATE = /^(\p{Nd}{4})-(\p{Nd}{2})-(\p{Nd}{2})\n?$/u;

  function asciiDigits(text) {         // Python's int()/float() read every decimal digit
    var chars = Array.from(text), out = "";
    for (var i = 0; i < chars.length; i++) {
      if (!DIGIT.test(chars[i])) { out += chars[i]; continue; }
      var cp = chars[i].codePointAt(0), zero = cp;
      while (zero > 0 && DIGIT.test(String.fromCodePoint(zero - 1))) { zero -= 1; }
      out += String((cp - zero) % 10);
    }
    return out;
  }

  function toNumber(v) {
    if (typeof v === "string") {
      var text = v.replace(PY_SPACE, "");
      if (!NUMBER.test(text) || Array.from(text).length > 30) { return null; }
      v = Number(asciiDigits(text));
    }
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function toPercentage(v) {          // 42, "42", "42 %" or "42%", as itemtypes/percentage.py
    if (typeof v === "string") {
      v = v.replace(PY_SPACE, "");
      if (v.charAt(v.length - 1) === "%") { v = v.slice(0, -1); }
    }
    return toNumber(v);
  }

  function toText(v) { return typeof v === "string" && v !== "" ? v : null; }

  function toDate(v) {
    if (v instanceof PyDate) { return v; }
    var m = typeof v === "string" ? ISO_DATE.exec(v) : null;
    if (!m || v.charAt(v.length - 1) === "\n" || /[^0-9-]/.test(v)) { return null; }
    return makeDate(Number(m[1]), Number(m[2]), Number(m[3]));
  }

  function toStrings(v) {
    if (!Array.isArray(v) || !v.length) { return null; }
    var out = v.filter(function (x) { return typeof x === "string"; });
    return out.length ? out : null;
  }

  function toAttestation(v) {
    var plain = v !== null && typeof v === "object" && !Array.isArray(v);
    var agreed = plain ? v.agreed : undefined;
    return agreed === true || agreed === "true" || agreed === 1 ? true : null;
  }

  function toRows(v) {
    if (!Array.isArray(v)) { return null; }
    return v.filter(function (r) { return r !== null && typeof r === "object" && !Array.isArray(r); });
  }

  var CONVERTERS = {
    text: toText, number: toNumber, percentage: toPercentage, date: toDate, strings: toStrings,
    attestation: toAttestation, rows: toRows, none: function () { return null; }
  };

  function convert(name, v) {
    if (!has(CONVERTERS, name)) { throw new Error("unknown converter " + name); }
    return CONVERTERS[name](v);
  }

  // --- expressions ------------------------------------------------------------------------------

  function same(a, b) {
    if (a instanceof PyDate && b instanceof PyDate) { return a.n === b.n; }
    if (Array.isArray(a) && Array.isArray(b)) {         // lists compare as sets
      return a.every(function (x) { return member(x, b); }) &&
        b.every(function (x) { return member(x, a); });
    }
    return a === b || (isNull(a) && isNull(b));
  }

  function member(x, list) {
    return list.some(function (y) { return same(x, y); });
  }

  function order(a) { return a instanceof PyDate ? a.n : a; }

  var COMPARE = {
    "==": function (a, b) { return same(a, b); },
    "!=": function (a, b) { return !same(a, b); },
    "<": function (a, b) { return order(a) < order(b); },
    "<=": function (a, b) { return order(a) <= order(b); },
    ">": function (a, b) { return order(a) > order(b); },
    ">=": function (a, b) { return order(a) >= order(b); },
    "in": function (a, b) { return member(a, b); },
    "not in": function (a, b) { return !member(a, b); }
  };

  function isNullLiteral(node) { return node.t === "lit" && node.v === null; }

  function evaluate(node, env) {
    switch (node.t) {
      case "lit": return node.v;
      case "ref": return has(env.values, node.id) ? env.values[node.id] : null;
      case "row": return env.row && has(env.row, node.col) ? env.row[node.col] : null;
      case "it": return isNull(env.it) ? null : env.it;
      case "list": return node.items.map(function (item) { return evaluate(item, env); });
      case "not": return evaluate(node.arg, env) !== true;
      case "call": return call(node, env);
      case "op": return operator(node, env);
      default: throw new Error("unknown node " + node.t);
    }
  }

  function operator(node, env) {
    var op = node.op;
    if (op === "and") { return evaluate(node.left, env) === true && evaluate(node.right, env) === true; }
    if (op === "or") { return evaluate(node.left, env) === true || evaluate(node.right, env) === true; }
    if ((op === "==" || op === "!=") && (isNullLiteral(node.left) || isNullLiteral(node.right))) {
      var other = isNullLiteral(node.left) ? node.right : node.left;
      return isNull(evaluate(other, env)) === (op === "==");
    }
    var left = evaluate(node.left, env), right = evaluate(node.right, env);
    if (op === "+" || op === "-") { return arithmetic(op, left, right); }
    if (!has(COMPARE, op)) { throw new Error("unknown operator " + op); }
    return !isNull(left) && !isNull(right) && COMPARE[op](left, right);
  }

  function arithmetic(op, left, right) {
    if (isNull(left) || isNull(right)) { return null; }
    var sign = op === "+" ? 1 : -1;
    if (left instanceof Duration && right instanceof Duration) {
      return new Duration(left.days + sign * right.days, left.years + sign * right.years);
    }
    if (left instanceof Duration || right instanceof Duration) {
      return left instanceof PyDate ? shift(left, right, sign) : shift(right, left, sign);
    }
    if (left instanceof PyDate) { return left.n - right.n; }
    var result = op === "+" ? left + right : left - right;
    return isFinite(result) ? result : null;
  }

  function shift(day, span, sign) {     // date ± days(n) / years(n), as expr._shift
    var totalDays = span.days;
    if (!isFinite(span.years)) { return null; }
    if (span.years === Math.trunc(span.years)) {
      day = addYears(day, sign * span.years);
      if (day === null) { return null; }
    } else {
      totalDays += span.years * 365.25;
    }
    if (!isFinite(totalDays)) { return null; }
    return dayOrNull(day.n + sign * roundHalfEven(totalDays));
  }

  function addYears(day, years) {       // 29 February becomes 28 February in other years
    var parts = ymd(day), year = parts[0] + years;
    return makeDate(year, parts[1], parts[2]) || makeDate(year, parts[1], 28);
  }

  function answered(v) {
    if (isNull(v)) { return false; }
    return !((typeof v === "string" || Array.isArray(v)) && v.length === 0);
  }

  function matching(env, rows, cond) {
    var outer = env.row, found = [];
    (rows || []).forEach(function (row) {
      env.row = row;
      if (evaluate(cond, env) === true) { found.push(row); }
    });
    env.row = outer;
    return found;
  }

  function countries(env, codes, cond) {
    var outer = env.it, results = [];
    (codes || []).forEach(function (code) {
      env.it = code;
      results.push(evaluate(cond, env) === true);
    });
    env.it = outer;
    return results;
  }

  function call(node, env) {
    var a = node.args, value;
    switch (node.fn) {
      case "answered": return answered(evaluate(a[0], env));
      case "selected":
        value = evaluate(a[0], env);
        return !isNull(value) && member(evaluate(a[1], env), value);
      case "count":
        if (a.length === 1) { value = evaluate(a[0], env); return value ? value.length : 0; }
        return matching(env, evaluate(a[0], env), a[1]).length;
      case "any": return matching(env, evaluate(a[0], env), a[1]).length > 0;
      case "all":
        value = evaluate(a[0], env) || [];
        return matching(env, value, a[1]).length === value.length;
      case "any_country": return countries(env, evaluate(a[0], env), a[1]).indexOf(true) >= 0;
      case "all_country": return countries(env, evaluate(a[0], env), a[1]).indexOf(false) < 0;
      case "in_group":
        value = evaluate(a[0], env);
        return !isNull(value) && env.groupOf !== null && env.groupOf(value) === evaluate(a[1], env);
      case "len":
        value = evaluate(a[0], env);
        return isNull(value) ? null : Array.from(value).length;
      case "today": return env.today;
      case "days":
        value = evaluate(a[0], env);
        return isNull(value) ? null : new Duration(value, 0);
      case "years":
        value = evaluate(a[0], env);
        return isNull(value) ? null : new Duration(0, value);
      default: throw new Error("function " + node.fn + "() is not available here");
    }
  }

  function truth(rule, env, fallback) { // a missing rule gives the default; so does an error
    if (!rule) { return fallback; }
    try {
      return evaluate(rule, env) === true;
    } catch (e) {
      return fallback;
    }
  }

  // --- the plan: sections, computed values and items in dependency order ------------------------

  function groupLookup(groups) {
    if (!groups) { return null; }
    return function (code) {
      return typeof code === "string" && has(groups, code) ? groups[code] : "third_country";
    };
  }

  function table(step, rows, env) {
    var out = rows.map(function (raw) {
      var row = {};
      env.row = row;
      step.columns.forEach(function (col) {
        if (!truth(col["if"], env, true)) { return; }
        var cell = convert(col.convert, has(raw, col.id) ? raw[col.id] : null);
        if (cell !== null) { row[col.id] = cell; }
      });
      return row;
    });
    env.row = null;
    return out;
  }

  // Return {visible: {id or "§section": bool}, values: {id: value}} like evaluate_visibility.
  function evaluatePlan(plan, answers) {
    var env = {values: {}, row: null, it: null, groupOf: groupLookup(plan.groups),
               today: toDate(plan.today)};
    var visible = {};
    plan.steps.forEach(function (step) {
      if (step.k === "section") {
        visible["§" + step.id] = truth(step["if"], env, true);
      } else if (step.k === "computed") {
        env.values[step.id] = truth(step["if"], env, false);
      } else {
        var section = has(visible, "§" + step.section) ? visible["§" + step.section] : true;
        var shown = section && truth(step["if"], env, true);
        visible[step.id] = shown;
        if (!shown) { return; }
        var value = convert(step.convert, has(answers, step.id) ? answers[step.id] : null);
        if (value !== null && step.columns && step.columns.length) { value = table(step, value, env); }
        if (value !== null) { env.values[step.id] = value; }
      }
    });
    return {visible: visible, values: env.values};
  }

  // --- the page ---------------------------------------------------------------------------------

  function checkedValues(form, name) {
    return Array.prototype.map.call(
      form.querySelectorAll('input[name="' + name + '"]:checked'), function (el) { return el.value; });
  }

  // Return an item's answer as the form holds it now (undefined: the page has no input for it).
  // The item type's widget says how to read it (data-read: value, list, rows, agreement, none).
  function readField(form, fieldset) {
    var id = fieldset.dataset.item, read = fieldset.dataset.read;
    if (read === "none") { return undefined; }
    if (read === "rows") {
      var rows = [];
      fieldset.querySelectorAll("tbody tr[data-row]").forEach(function (tr) {
        var row = {};
        tr.querySelectorAll("input, select").forEach(function (el) {
          var col = el.name.split("-").slice(2).join("-");
          if (col && el.value !== "") { row[col] = el.value; }
        });
        if (Object.keys(row).length) { rows.push(row); }
      });
      return rows;
    }
    if (read === "agreement") {
      var box = form.elements[id + "-agreed"];
      return {agreed: Boolean(box && box.checked)};
    }
    if (read === "list") { return checkedValues(form, id); }
    var checked = checkedValues(form, id);
    if (checked.length) { return checked[0]; }
    var el = form.elements[id];
    return el && typeof el.value === "string" && el.value !== "" ? el.value : null;
  }

  function attach(document) {
    var form = document.getElementById("answer-form");
    var data = document.getElementById("visibility-rules");
    if (!form || !data) { return; }
    var plan = JSON.parse(data.textContent || "{}");
    if (!plan.steps) { return; }
    var fieldsets = plan.steps.filter(function (step) { return step.k === "item"; })
      .map(function (step) { return document.getElementById("q-" + step.id); })
      .filter(function (fieldset) { return fieldset !== null; });

    function refresh() {
      var answers = Object.assign({}, plan.answers || {});
      fieldsets.forEach(function (fieldset) {
        var value = readField(form, fieldset);
        if (value !== undefined) { answers[fieldset.dataset.item] = value; }
      });
      var visible = evaluatePlan(plan, answers).visible;
      fieldsets.forEach(function (fieldset) {
        var shown = visible[fieldset.dataset.item] === true;
        fieldset.hidden = !shown;
        fieldset.classList.toggle("is-hidden", !shown);
      });
    }
    form.addEventListener("change", refresh);
    form.addEventListener("input", refresh);

    // Tables: add and remove rows in the page (the buttons still work without JavaScript).
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[name=add_row]");
      if (!button) { return; }
      var body = form.querySelector('table[data-table="' + button.value + '"] tbody');
      var last = body && body.querySelector("tr[data-row]:last-of-type");
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
        if (el.name === "remove_row") {
          el.value = button.value + "-" + index;
          // "Remove row 2" / "Supprimer la ligne 2": the row number is the only number in the text.
          el.textContent = el.textContent.replace(/\d+/, String(index + 1));
        }
        if (el.tagName !== "BUTTON" && el.tagName !== "LABEL") { el.value = ""; }
      });
      body.appendChild(row);
      count.value = String(index + 1);
      refresh();
    });
    refresh();
  }

  return {evaluate: evaluatePlan, expression: evaluate, convert: convert, attach: attach,
          PyDate: PyDate, Duration: Duration};
}));
