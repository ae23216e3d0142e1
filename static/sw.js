/* Waypoint service worker: keeps static files and one neutral offline page. Never a signed-in
   page, never an API answer: everything else goes to the network untouched. */
"use strict";
var CACHE = "waypoint-static-2";
var OFFLINE = "/offline";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      // credentials "omit": the offline page is fetched as a stranger, so it can hold nothing personal.
      return fetch(new Request(OFFLINE, { credentials: "omit" })).then(function (response) {
        return cache.put(OFFLINE, response);
      });
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.open(CACHE).then(function (cache) {
        return cache.match(request).then(function (hit) {
          return hit || fetch(request).then(function (response) {
            if (response.ok) { cache.put(request, response.clone()); }
            return response;
          });
        });
      })
    );
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(function () {
        return caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); });
      })
    );
  }
});

// A reminder: the payload holds only the words the person chose (or the neutral default) and the
// section to open. The same tag for every one, so the lock screen shows one note at most.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var text = typeof data.text === "string" && data.text ? data.text : "You have a new update";
  event.waitUntil(self.registration.showNotification(text, { tag: "waypoint", renotify: true, data: { open: data.open } }));
});

// Tapping it opens Waypoint (signing in is still needed): an open window if there is one.
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var open = event.notification.data && event.notification.data.open;
  var url = typeof open === "string" && open.charAt(0) === "/" && open.charAt(1) !== "/" ? open : "/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      if (!windows.length) { return self.clients.openWindow(url); }
      var open = windows[0];
      return open.focus().then(function () { return open.navigate(url); }).catch(function () { return self.clients.openWindow(url); });
    })
  );
});
