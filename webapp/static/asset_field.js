// An inventory-number field for staff (templates/_field.html, kind "asset"): typing searches
// the asset registry (GET /api/v1/assets) and lists matches (number — model — place) to
// pick with the mouse or the arrow keys and Enter; Escape closes the list. The server checks
// the number on every door, so typing a number without picking is fine.
(function () {
  "use strict";
  var DELAY = 250;

  function place(asset) {
    return [asset.site, asset.room, asset.rack && (asset.rack + (asset.rack_unit ? " U" + asset.rack_unit : ""))]
      .filter(Boolean).join(" / ");
  }

  function setUp(box) {
    if (box.dataset.ready) { return; }
    box.dataset.ready = "1";
    var input = box.querySelector("input");
    var list = box.querySelector("[role=listbox]");
    var status = box.querySelector("[aria-live]");
    var timer = null;
    var active = -1;
    var asked = 0;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = options();
      if (!items.length) { return; }
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) {
        item.classList.toggle("active", i === active);
        item.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
    }

    function choose(item) {
      input.value = item.dataset.value;
      close();
      input.focus();
    }

    function show(results) {
      list.textContent = "";
      results.forEach(function (asset, i) {
        var item = document.createElement("li");
        item.className = "list-group-item list-group-item-action";
        item.id = input.id + "-match-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.value = asset.inventory_no;
        item.textContent = [asset.inventory_no, asset.model, place(asset)].filter(Boolean).join(" — ");
        item.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item); });
        list.appendChild(item);
      });
      list.hidden = !results.length;
      input.setAttribute("aria-expanded", results.length ? "true" : "false");
      active = -1;
      status.textContent = results.length ? box.dataset.found.replace("{n}", results.length) : box.dataset.none;
    }

    function search() {
      var text = input.value.trim();
      if (text.length < 2) { close(); status.textContent = ""; return; }
      var query = new URLSearchParams({q: text.slice(0, 100), pickable: "true", per_page: "10"});
      if (box.dataset.kinds) { query.set("kind", box.dataset.kinds); }
      var mine = ++asked;
      fetch(box.dataset.api + "?" + query.toString(), {headers: {"Accept": "application/json"},
                                                       credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (body) { if (mine === asked) { show(body.results || []); } })
        .catch(function () { if (mine === asked) { close(); } });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(options()[active]); }
      else if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    input.addEventListener("blur", close);
  }

  document.querySelectorAll("[data-asset-search]").forEach(setUp);
}());
