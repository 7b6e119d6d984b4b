// GPS while on duty (an inspector signed in, a collector signed in to a segment): positions are gathered
// and sent as one batch every half minute through the outbox; the day's track is drawn without a map.
import { newRef } from "./api.js";
import { h, mount } from "./dom.js";
import { clock } from "./format.js";
import { t } from "./i18n.js";
import { submit } from "./outbox.js";
import { readKept } from "./reads.js";
import { ageNote } from "./shell.js";

let watchId = null;
let points = [];  // gathered, not yet in the outbox
let uploadTimer = null;
let last = null;  // {lat, lng} of the latest fix
const BATCH_MS = 30000;

export const lastPosition = () => last;

export function startTracking() {
  if (watchId !== null || !("geolocation" in navigator)) return;
  watchId = navigator.geolocation.watchPosition((pos) => {
    const c = pos.coords;
    last = { lat: c.latitude, lng: c.longitude };
    points.push({ lat: c.latitude, lng: c.longitude, recorded_at: new Date(pos.timestamp || Date.now()).toISOString(),
                  accuracy_m: c.accuracy ?? undefined, speed_mps: c.speed ?? undefined });
  }, () => {}, { enableHighAccuracy: true, maximumAge: 10000 });
  uploadTimer = setInterval(flushTrack, BATCH_MS);
}

export async function flushTrack() {
  if (!points.length) return null;
  const batch = points.splice(0, 5000);
  return submit("track", "/tracks", { client_ref: newRef(), points: batch }, { label: `${batch.length}` });
}

// Off duty: what was gathered goes into the outbox first (unless the person signs out: see app.js).
export async function stopTracking({ keep = true } = {}) {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  clearInterval(uploadTimer);
  watchId = null;
  uploadTimer = null;
  if (keep) await flushTrack();
  points = [];
  last = null;
}

window.parkingosFlushTrack = flushTrack;  // lets a test (or a person at the end of the day) send now

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  return el;
}

// The points as a polyline in a square box: metres east and north of the first point (an equirectangular
// projection is exact enough for a day's walk), north up, the start and the end marked.
export function trackDrawing(track) {
  const size = 300;
  const pad = 12;
  const box = svg("svg", { viewBox: `0 0 ${size} ${size}`, class: "track", id: "track-map", role: "img",
                           "aria-label": t("track.title") });
  if (!track.length) return box;
  const lat0 = track[0].lat;
  const metresPerDegree = 111320;
  const xy = track.map((p) => [(p.lng - track[0].lng) * metresPerDegree * Math.cos((lat0 * Math.PI) / 180),
    (p.lat - lat0) * metresPerDegree]);
  const xs = xy.map((p) => p[0]);
  const ys = xy.map((p) => p[1]);
  const [minX, minY] = [xs.reduce((a, b) => Math.min(a, b)), ys.reduce((a, b) => Math.min(a, b))];
  const span = Math.max(xs.reduce((a, b) => Math.max(a, b)) - minX, ys.reduce((a, b) => Math.max(a, b)) - minY,
                        50);  // 50 m at least
  const scale = (size - 2 * pad) / span;
  const at = ([x, y]) => [pad + (x - minX) * scale, size - pad - (y - minY) * scale];
  const drawn = xy.map(at);
  box.append(svg("polyline", { points: drawn.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" "),
                               fill: "none", stroke: "#0b3d91", "stroke-width": 4, "stroke-linejoin": "round" }));
  const [sx, sy] = drawn[0];
  const [ex, ey] = drawn[drawn.length - 1];
  box.append(svg("circle", { cx: sx, cy: sy, r: 7, fill: "#0a6b2d", class: "start" }),
             svg("circle", { cx: ex, cy: ey, r: 7, fill: "#a30000", class: "end" }));
  return box;
}

// Today's track as the server has it, plus what this handheld has not sent yet.
export async function trackScreen() {
  const read = await readKept("track:today", "/tracks/mine");
  const day = read ? read.data : { points: [], distance_m: 0, duration_s: 0, stops: 0 };
  const track = day.points.concat(points);
  mount(h("h1", {}, t("track.title")), read && read.stale ? ageNote(read.at) : null,
    h("dl", { class: "facts", id: "track-facts" },
      h("dt", {}, t("track.distance")), h("dd", { id: "track-distance" }, `${(day.distance_m / 1000).toFixed(2)} km`),
      h("dt", {}, t("track.duration")), h("dd", {}, `${Math.round(day.duration_s / 60)} ${t("unit.min")}`),
      h("dt", {}, t("track.stops")), h("dd", {}, String(day.stops)),
      h("dt", {}, t("track.points")), h("dd", { id: "track-count", dataset: { count: track.length } },
        points.length ? t("track.points_waiting", { count: track.length, waiting: points.length }) : String(track.length))),
    track.length ? trackDrawing(track) : h("p", { id: "track-empty" }, t("track.empty")),
    track.length ? h("p", { class: "center" }, `${clock(track[0].recorded_at)} – ${clock(track[track.length - 1].recorded_at)}`)
      : null);
}
