// The page frame: menu sections remember being folded, and wide tables scroll inside their own box.
(function () {
  "use strict";
  var KEY = "parkingos.menu.folded";

  function folded() {
    try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; }
  }

  function remember(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode: forget */ }
  }

  function restoreMenu() {
    var list = folded();
    document.querySelectorAll("#menu .nav-section").forEach(function (section) {
      var key = section.dataset.section;
      var body = section.querySelector(".collapse");
      var toggle = section.querySelector(".nav-section-toggle");
      // the section of the page being shown stays open
      if (list.indexOf(key) >= 0 && !section.querySelector(".nav-link.active")) {
        body.classList.remove("show");
        toggle.setAttribute("aria-expanded", "false");
        toggle.classList.add("collapsed");
      }
      body.addEventListener("hidden.bs.collapse", function () {
        remember(folded().filter(function (k) { return k !== key; }).concat([key]));
      });
      body.addEventListener("shown.bs.collapse", function () {
        remember(folded().filter(function (k) { return k !== key; }));
      });
    });
  }

  // every table of the content scrolls sideways in its own box, its first column staying in view
  function boxTables() {
    document.querySelectorAll("main table.table").forEach(function (table) {
      var parent = table.parentElement;
      if (parent.classList.contains("table-responsive") || parent.classList.contains("table-box")) {
        parent.classList.add("table-box");
        return;
      }
      var box = document.createElement("div");
      box.className = "table-box";
      parent.insertBefore(box, table);
      box.appendChild(table);
    });
  }

  function ready() {
    restoreMenu();
    boxTables();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
