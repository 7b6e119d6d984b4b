/* ParkingOS GPS tracks: draws positions and a day's route as SVG, with no external map by default.
   Data comes from <script type="application/json"> blocks (CSP script-src 'self', no inline scripts).
   Coordinates are projected with Web Mercator, so an optional tile base map (tile_url) lines up. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var TILE = 256;
  var mapBox = document.getElementById("track-map");
  var minutes = (mapBox && mapBox.getAttribute("data-unit-minutes")) || "min";  // the page's word for it

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  // world pixels at zoom 0 (0..256)
  function project(lat, lng) {
    var s = Math.sin(Math.max(-85.05, Math.min(85.05, lat)) * Math.PI / 180);
    return [TILE * (lng + 180) / 360, TILE * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI))];
  }

  function metresPerUnit(lat) {  // world units at zoom 0 -> metres at this latitude
    return 40075016.686 * Math.cos(lat * Math.PI / 180) / TILE;
  }

  function fit(box, latlngs, padding) {
    var xs = [], ys = [];
    latlngs.forEach(function (p) { var xy = project(p[0], p[1]); xs.push(xy[0]); ys.push(xy[1]); });
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs);
    var minY = Math.min.apply(null, ys), maxY = Math.max.apply(null, ys);
    var w = Math.max(maxX - minX, 0.00002), h = Math.max(maxY - minY, 0.00002);
    var ratio = box.clientWidth / Math.max(box.clientHeight, 1);
    if (w / h < ratio) { var extra = h * ratio - w; minX -= extra / 2; w += extra; }
    else { var extraH = w / ratio - h; minY -= extraH / 2; h += extraH; }
    var pad = Math.max(w, h) * (padding || 0.08);
    return { x: minX - pad, y: minY - pad, w: w + 2 * pad, h: h + 2 * pad };
  }

  function canvas(box, view, tileUrl, lat) {
    box.innerHTML = "";
    var svg = el("svg", { viewBox: [view.x, view.y, view.w, view.h].join(" "), width: "100%", height: "100%",
                          preserveAspectRatio: "xMidYMid meet", role: "img" }, box);
    if (tileUrl) { tiles(svg, view, box.clientWidth, tileUrl); }
    else { grid(svg, view, lat); }
    return svg;
  }

  function grid(svg, view, lat) {  // a faint 100 m grid instead of a base map
    var step = 100 / metresPerUnit(lat || 30);
    var g = el("g", { stroke: "#dde3ea", "stroke-width": view.w / 800 }, svg);
    var n = 0;
    for (var x = Math.floor(view.x / step) * step; x < view.x + view.w && n < 400; x += step, n++) {
      el("line", { x1: x, y1: view.y, x2: x, y2: view.y + view.h }, g);
    }
    for (var y = Math.floor(view.y / step) * step; y < view.y + view.h && n < 800; y += step, n++) {
      el("line", { x1: view.x, y1: y, x2: view.x + view.w, y2: y }, g);
    }
  }

  function tiles(svg, view, pixels, url) {
    var z = Math.max(0, Math.min(19, Math.round(Math.log2(pixels / view.w))));
    var size = TILE / Math.pow(2, z), max = Math.pow(2, z);
    for (var tx = Math.floor(view.x / size); tx * size < view.x + view.w; tx++) {
      for (var ty = Math.floor(view.y / size); ty * size < view.y + view.h; ty++) {
        if (tx < 0 || ty < 0 || tx >= max || ty >= max) { continue; }
        el("image", { href: url.replace("{z}", z).replace("{x}", tx).replace("{y}", ty), x: tx * size,
                      y: ty * size, width: size, height: size }, svg);
      }
    }
  }

  function label(svg, xy, text, view, color) {
    var t = el("text", { x: xy[0] + view.w / 120, y: xy[1] - view.w / 160, "font-size": view.w / 55,
                         fill: color || "#212529" }, svg);
    t.textContent = text;
  }

  function circle(svg, xy, r, attrs) {
    var c = el("circle", Object.assign({ cx: xy[0], cy: xy[1], r: r }, attrs || {}), svg);
    return c;
  }

  function live(box, data) {
    var people = data.people || [];
    if (!people.length) { box.textContent = box.getAttribute("data-empty") || ""; return; }
    var view = fit(box, people.map(function (p) { return [p.lat, p.lng]; }), 0.15);
    var svg = canvas(box, view, data.tile_url, people[0].lat);
    people.forEach(function (p) {
      var xy = project(p.lat, p.lng);
      var color = p.age_minutes > 15 ? "#adb5bd" : (p.kind === "inspector" ? "#6f42c1" : "#0d6efd");
      var dot = circle(svg, xy, view.w / 110, { fill: color, stroke: "#fff", "stroke-width": view.w / 600 });
      var title = el("title", {}, dot);
      title.textContent = p.name + " (" + (p.role || p.kind) + ") · " + p.age_minutes + " " + minutes;
      label(svg, xy, p.name, view, color);
    });
  }

  function day(box, data) {
    var pts = data.points || [];
    if (!pts.length) { return; }
    var all = pts.map(function (p) { return [p[0], p[1]]; });
    var view = fit(box, all, 0.08);
    var svg = canvas(box, view, data.tile_url, pts[0][0]);
    var unitsPerMetre = 1 / metresPerUnit(pts[0][0]);
    (data.references || []).forEach(function (r) {
      circle(svg, project(r[0], r[1]), (data.radius_m || 500) * unitsPerMetre,
             { fill: "rgba(25,135,84,0.07)", stroke: "#198754", "stroke-dasharray": view.w / 150,
               "stroke-width": view.w / 700 });
    });
    var line = pts.map(function (p) { return project(p[0], p[1]).join(","); }).join(" ");
    el("polyline", { points: line, fill: "none", stroke: "#0d6efd", "stroke-width": view.w / 400,
                     "stroke-linejoin": "round", "stroke-linecap": "round", opacity: 0.8 }, svg);
    (data.stops || []).forEach(function (s) {
      var c = circle(svg, project(s.lat, s.lng), view.w / 130, { fill: "#fd7e14", stroke: "#fff",
                                                              "stroke-width": view.w / 700 });
      el("title", {}, c).textContent = s.minutes + " " + minutes;
    });
    circle(svg, project(pts[0][0], pts[0][1]), view.w / 150, { fill: "#198754" });
    var marker = circle(svg, project(pts[pts.length - 1][0], pts[pts.length - 1][1]), view.w / 100,
                        { fill: "#dc3545", stroke: "#fff", "stroke-width": view.w / 600 });
    replay(pts, marker, data.timezone);
  }

  // 24-hour HH:MM:SS in the park's zone, whatever the browser's locale would pick (9:49:35 AM)
  function clockText(iso, tz) {
    try {
      return new Date(iso).toLocaleTimeString("en-GB", { timeZone: tz, hour12: false, hour: "2-digit",
                                                         minute: "2-digit", second: "2-digit" });
    } catch (e) { return iso; }
  }

  function replay(pts, marker, tz) {
    var slider = document.getElementById("track-slider");
    var clock = document.getElementById("track-time");
    var button = document.getElementById("track-play");
    if (!slider) { return; }
    function show(i) {
      var p = pts[i], xy = project(p[0], p[1]);
      marker.setAttribute("cx", xy[0]); marker.setAttribute("cy", xy[1]);
      clock.textContent = clockText(p[2], tz);
    }
    slider.addEventListener("input", function () { show(+slider.value); });
    var timer = null;
    button.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; return; }
      if (+slider.value >= pts.length - 1) { slider.value = 0; }
      var step = Math.max(1, Math.round(pts.length / 400));
      timer = setInterval(function () {
        var next = Math.min(pts.length - 1, +slider.value + step);
        slider.value = next; show(next);
        if (next >= pts.length - 1) { clearInterval(timer); timer = null; }
      }, 40);
    });
    show(pts.length - 1);
  }

  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-track-live]").forEach(function (box) {
      live(box, read(box.getAttribute("data-track-live")) || {});
    });
    document.querySelectorAll("[data-track-day]").forEach(function (box) {
      day(box, read(box.getAttribute("data-track-day")) || {});
    });
  });
})();
