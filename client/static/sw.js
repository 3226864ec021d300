// Đồng Hành service worker: keeps the app shell and the WebAssembly in a versioned cache so
// the app opens and works with no network at all after the first visit. The API is never
// cached here: data lives in the app's own local store and travels by sync.
//
// `cargo xtask dist` replaces the build stamp below with a hash of the built files, so every
// new build gets a new cache; the old one is removed when the new worker takes over. It
// also lists, in place of the chunk marker, the app's split chunks (the code loaded after
// the first screen), so the whole app is kept for offline use from the first visit.
const BUILD = "__DONGHANH_BUILD__";
const CACHE = `donghanh-shell-${BUILD}`;
const SHELL = [
  "/",
  "/style.css",
  "/boot.js",
  "/client.js",
  "/client_bg.wasm",
  // __DONGHANH_CHUNKS__
  "/manifest.webmanifest",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-512.png",
];

self.addEventListener("install", (event) => {
  // Fetch past the HTTP cache so the new version's files are really the new ones.
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((u) => new Request(u, { cache: "reload" })))),
  );
  // No skipWaiting here: a running app keeps its version until the person taps "reload".
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("donghanh-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "activate-new-version") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (
    request.method !== "GET" ||
    url.origin !== self.location.origin ||
    url.pathname.startsWith("/api/") ||
    url.pathname.startsWith("/console/")
  ) {
    return; // the network, untouched (the commune console works online)
  }
  if (request.mode === "navigate") {
    // Every page of the app is the one shell.
    event.respondWith(caches.match("/", { cacheName: CACHE }).then((hit) => hit || fetch(request)));
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE }).then((hit) => hit || fetch(request)));
});
