// Evidence uploads: put the chosen file's name in the form's address, so that a refusal before
// the file is read (413, over the size limit) can still name the file on its error page.
(function () {
  "use strict";
  document.querySelectorAll('input[type="file"][form]').forEach(function (input) {
    input.addEventListener("change", function () {
      var form = document.getElementById(input.getAttribute("form"));
      if (!form || !input.files || !input.files.length || !window.URL) { return; }
      var url = new URL(form.action, window.location.href);
      url.searchParams.set("file", input.files[0].name.slice(0, 200));
      form.action = url.toString();
    });
  });
}());
