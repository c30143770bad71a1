/* The verifier page's service worker (portal/verifier.py fills in the names): keeps the
   page, its scripts, the rules and the last trust list, so the desk verifies offline.
   The page and the trust list come from the network when it answers (within
   NETWORK_WAIT_MS), else from the copy kept here, marked "X-Vax-Offline: 1"; the scripts
   and the rules carry their content hash in their URL and come from the copy first. */
"use strict";

var VERSION = __VERSION__;
var KEEP = __KEEP__;
var FRESH = __FRESH__;
var NETWORK_WAIT_MS = __NETWORK_WAIT_MS__;
var CACHE = "vaxviet-verify-" + VERSION;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) { return cache.addAll(KEEP); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names
          .filter(function (name) { return name.indexOf("vaxviet-verify-") === 0 && name !== CACHE; })
          .map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

function offline(response) {
  var headers = new Headers(response.headers);
  headers.set("X-Vax-Offline", "1");
  return response.blob().then(function (body) {
    return new Response(body, { status: response.status, statusText: response.statusText,
                                headers: headers });
  });
}

function networkFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    var network = fetch(request).then(function (response) {
      if (response.ok) { cache.put(request, response.clone()); }
      return response;
    });
    var late = new Promise(function (_, reject) {
      setTimeout(function () { reject(new Error("network too slow")); }, NETWORK_WAIT_MS);
    });
    return Promise.race([network, late]).catch(function (error) {
      return cache.match(request).then(function (kept) {
        if (kept) { return offline(kept); }
        return network.catch(function () { throw error; });
      });
    });
  });
}

function cacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (kept) {
      return kept || fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (FRESH.indexOf(url.pathname) >= 0) {
    event.respondWith(networkFirst(request));
  } else if (KEEP.indexOf(url.pathname + url.search) >= 0) {
    event.respondWith(cacheFirst(request));
  }
});
