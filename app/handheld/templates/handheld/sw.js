// The handheld app's service worker, version {{ version }}: keeps the app's files for offline starts.
// Device API calls (/pos/v1) never come from this cache: the app keeps its own last answers with their age.
const CACHE = "parkingos-m-{{ version }}";
const FILES = {{ files | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("parkingos-m-") && n !== CACHE)
      .map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !url.pathname.startsWith("/m/")) {
    return;  // the device API and everything else go to the network as they are
  }
  if (event.request.mode === "navigate") {  // the shell: the newest when online, the kept one offline
    event.respondWith(fetch(event.request).catch(() => caches.match("/m/")));
    return;
  }
  event.respondWith(caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || fetch(event.request)));
});
