// Canned answers: put a ready text into the conversation message or the task form's
// answer. Loaded as a file (the CSP forbids inline scripts); the texts come from the
// options' data-body attributes. Without JavaScript the texts stay readable in a list.
(function () {
  "use strict";

  function insert(area, text) {
    var current = area.value.replace(/\s+$/, "");
    area.value = current ? current + "\n\n" + text : text;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  function chooseAnswerAction() {
    // The task's answer only counts when "answer" is the chosen action: pick it if none is.
    var radios = document.querySelectorAll('input[type="radio"][name="action"]');
    var chosen = Array.prototype.some.call(radios, function (r) { return r.checked; });
    Array.prototype.forEach.call(radios, function (r) {
      if (!chosen && r.value === "answer") {
        r.checked = true;
        r.dispatchEvent(new Event("change", { bubbles: true }));   // its form section appears
      }
    });
  }

  document.querySelectorAll("[data-canned]").forEach(function (box) {
    var select = box.querySelector("[data-canned-select]");
    var target = box.querySelector("[data-canned-target]");
    var button = box.querySelector("[data-canned-insert]");
    box.hidden = false;
    button.addEventListener("click", function () {
      var option = select.options[select.selectedIndex];
      var areaId = target ? target.value : box.getAttribute("data-canned-default");
      var area = document.getElementById(areaId);
      if (!option || !area) { return; }
      insert(area, option.getAttribute("data-body") || "");
      if (areaId === "field-answer") { chooseAnswerAction(); }
    });
  });
})();
