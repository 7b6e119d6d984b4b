/* ParkingOS charts and small page behaviours. No inline scripts (CSP script-src 'self'):
   chart data sits in <script type="application/json"> blocks referenced by data-chart. */
(function () {
  "use strict";

  function fontSize() {
    // readable on a laptop and on a wall screen: grow with the viewport
    return Math.max(12, Math.min(28, Math.round(window.innerWidth / 110)));
  }

  function layoutFor(spec) {
    var size = fontSize();
    var layout = {
      font: { size: size }, margin: { l: 10 + size * 4, r: 20, t: 20, b: 10 + size * 4 },
      legend: { orientation: "h", y: -0.2 }, hovermode: "closest", autosize: true,
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)"
    };
    if (spec.type === "bar" && !spec.horizontal) { layout.barmode = spec.stacked ? "stack" : "group"; }
    if (spec.horizontal) { layout.margin.l = size * 10; layout.yaxis = { type: "category" }; }
    // labels exactly as the table shows them: Plotly would read "2026-12-05" as a date and write "Dec 5"
    else { layout.xaxis = { type: "category" }; }
    var hasY2 = (spec.series || []).some(function (s) { return s.axis === "y2"; });
    if (hasY2) { layout.yaxis2 = { overlaying: "y", side: "right", ticksuffix: "%" }; }
    var allPercent = (spec.series || []).length && spec.series.every(function (s) { return s.percent; });
    if (allPercent) { layout.yaxis = { ticksuffix: "%", rangemode: "tozero" }; }
    if (spec.type === "pie") { delete layout.xaxis; }
    return layout;
  }

  function traces(spec) {
    if (spec.type === "pie") {
      return [{ type: "pie", labels: spec.labels, values: spec.values, hole: 0.35, sort: false,
                textinfo: "label+percent", hovertemplate: spec.money ? "%{label}: ¥%{value:.2f}<extra></extra>" : undefined }];
    }
    return (spec.series || []).map(function (s) {
      var t = { name: s.name, yaxis: s.axis === "y2" ? "y2" : "y" };
      if (spec.horizontal) {
        t.type = "bar"; t.orientation = "h"; t.y = spec.x; t.x = s.values;
      } else if (spec.type === "line" || s.axis === "y2") {
        t.type = "scatter"; t.mode = "lines+markers"; t.x = spec.x; t.y = s.values;
      } else {
        t.type = "bar"; t.x = spec.x; t.y = s.values;
      }
      if (s.percent) { t.hovertemplate = "%{y}%<extra>" + s.name + "</extra>"; }
      return t;
    });
  }

  function draw(el) {
    if (typeof window.Plotly === "undefined") { return; }
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var empty = spec.type === "pie" ? !(spec.values || []).some(function (v) { return v; })
                                    : !(spec.x || []).length;
    if (empty) {
      el.textContent = el.getAttribute("data-empty") || "—";
      el.classList.add("text-muted", "text-center", "pt-5");
      return;
    }
    window.Plotly.react(el, traces(spec), layoutFor(spec), { responsive: true, displaylogo: false });
    el.setAttribute("data-drawn", "1");
  }

  function visible(el) { return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length); }

  function drawVisible() {
    document.querySelectorAll("[data-chart]").forEach(function (el) { if (visible(el)) { draw(el); } });
  }

  function setupToggles() {
    document.querySelectorAll("[data-view-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var wanted = button.getAttribute("data-view-toggle");
        document.querySelectorAll("[data-view]").forEach(function (block) {
          block.classList.toggle("d-none", block.getAttribute("data-view") !== wanted);
        });
        document.querySelectorAll("[data-view-toggle]").forEach(function (b) {
          b.classList.toggle("active", b === button);
          b.setAttribute("aria-pressed", b === button ? "true" : "false");
        });
        if (wanted === "chart") { drawVisible(); }
      });
    });
  }

  function pollExport() {
    var box = document.getElementById("export-job");
    if (!box) { return; }
    var state = box.getAttribute("data-state");
    if (state === "done" || state === "failed") { return; }
    var bar = document.getElementById("export-bar");
    function tick() {
      fetch(box.getAttribute("data-status-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          document.getElementById("export-state").textContent = s.state_label || s.state;
          document.getElementById("export-rows").textContent = s.rows;
          if (s.percent !== null && s.percent !== undefined) {
            bar.style.width = s.percent + "%"; bar.textContent = s.percent + "%";
          }
          if (s.state === "done") {
            bar.classList.remove("progress-bar-striped", "progress-bar-animated"); bar.classList.add("bg-success");
            bar.style.width = "100%"; bar.textContent = "100%";
            var link = document.getElementById("download-link");
            if (s.download_url) { link.href = s.download_url; }
            link.classList.remove("d-none");
          } else if (s.state === "failed") {
            bar.classList.remove("progress-bar-striped", "progress-bar-animated"); bar.classList.add("bg-danger");
            var err = document.getElementById("export-error");
            err.textContent = s.error || ""; err.classList.remove("d-none");
          } else {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }

  // an import job: the bar follows the worker; when it ends, the page is reloaded to show the result or report
  function pollImport() {
    var box = document.getElementById("import-job");
    if (!box) { return; }
    var state = box.getAttribute("data-state");
    if (state === "done" || state === "failed") { return; }
    var bar = document.getElementById("import-bar");
    function tick() {
      fetch(box.getAttribute("data-status-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.state === "done" || s.state === "failed") { window.location.reload(); return; }
          document.getElementById("import-state").textContent = s.state;
          document.getElementById("import-rows").textContent = s.rows;
          document.getElementById("import-total").textContent = s.total;
          bar.style.width = s.percent + "%"; bar.textContent = s.percent + "%";
          window.setTimeout(tick, 1000);
        })
        .catch(function () { window.setTimeout(tick, 3000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupToggles();
    drawVisible();
    pollExport();
    pollImport();
    var timer;
    window.addEventListener("resize", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        document.querySelectorAll("[data-drawn]").forEach(function (el) { if (visible(el)) { draw(el); } });
      }, 200);
    });
  });
})();
