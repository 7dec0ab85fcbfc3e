// The inbox by keyboard: j / k or the arrow keys move between rows, Enter opens the task,
// c claims and opens it, / goes to the filter. Keys typed into a field are left alone.
(function () {
  "use strict";
  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".inbox-table tbody tr[data-task-id]"));
  }

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, n) {
      row.classList.toggle("inbox-current", n === current);
      if (n === current) { row.setAttribute("aria-current", "true"); } else { row.removeAttribute("aria-current"); }
    });
    var link = all[current].querySelector("a[data-open]");
    if (link) { link.focus(); }
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    var all = rows();
    var row = all[current];
    switch (event.key) {
      case "j": case "ArrowDown":
        if (!all.length) { return; }
        select(current + 1); break;
      case "k": case "ArrowUp":
        if (!all.length) { return; }
        select(current < 0 ? 0 : current - 1); break;
      case "Enter":
        if (!row || document.activeElement !== document.body) { return; }   // a focused link opens itself
        row.querySelector("a[data-open]").click(); break;
      case "c":
        var form = row && row.querySelector("form[data-claim-open]");
        if (!form) { return; }
        form.requestSubmit ? form.requestSubmit() : form.submit(); break;
      case "/":
        var filter = document.getElementById("filter-text");
        if (!filter) { return; }
        filter.focus(); filter.select(); break;
      default:
        return;
    }
    event.preventDefault();
  });

  // A row clicked or focused by Tab becomes the current one, so c acts on what is in view.
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest && event.target.closest(".inbox-table tbody tr[data-task-id]");
    if (row) {
      var index = rows().indexOf(row);
      if (index !== current) {
        current = index;
        rows().forEach(function (r, n) { r.classList.toggle("inbox-current", n === current); });
      }
    }
  });
}());
