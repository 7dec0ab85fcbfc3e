// Conditional form sections (webapp/templates/_fields.html): each section is shown only
// while its case holds (the choice it belongs to is made), and its fields are disabled
// otherwise so they are not sent. Without this script every section shows, with a heading
// saying when it applies; the server drops what a case not chosen holds either way.
(function () {
  "use strict";

  function chosen(form, name) {
    var values = [];
    form.querySelectorAll("[name]").forEach(function (el) {
      if (el.name !== name || el.matches(":disabled")) return;
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) values.push(el.value);
      } else if (el.value.trim() !== "") {
        values.push(el.value);
      }
    });
    return values;
  }

  function holds(form, when) {
    var values = chosen(form, when.field);
    if (when.filled) return values.length > 0;
    if (!values.length) return false;
    var hit = values.some(function (v) { return when.values.indexOf(v) !== -1; });
    return when.negate ? !hit : hit;
  }

  function update(form) {
    // a section may depend on a field of another section: settle in a few rounds
    for (var round = 0; round < 5; round++) {
      var changed = false;
      form.querySelectorAll("fieldset[data-show-when]").forEach(function (section) {
        var whens = JSON.parse(section.getAttribute("data-show-when") || "[]");
        var show = !whens.length || whens.some(function (w) { return holds(form, w); });
        if (section.hidden === show) {
          section.hidden = !show;
          section.disabled = !show;
          changed = true;
        }
      });
      if (!changed) return;
    }
  }

  document.querySelectorAll("form").forEach(function (form) {
    if (!form.querySelector("fieldset[data-show-when]")) return;
    update(form);
    form.addEventListener("change", function () { update(form); });
    form.addEventListener("input", function () { update(form); });
  });
})();
