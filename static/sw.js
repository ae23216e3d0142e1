/* The service worker: keeps static files and one neutral offline page. Never a signed-in
   page, never an API answer: everything else goes to the network as it was asked (held back only
   while an exit is owed, see below).

   Exit now offline: an exit is never answered with a page of the portal. It goes straight to the
   exit destination (the browser's own offline error for that site names nothing of ours), and the
   fact that an exit is owed is kept (a bare flag, nothing about the person). The first thing this
   worker does back online, before it lets any request of the portal through, is end that session
   on the server. */
"use strict";
// Names the phone keeps (visible in its storage settings) say nothing of the app or of an exit.
var CACHE = "static-3";
var OFFLINE = "/offline";
// Its own cache, so that a new version of this worker (which drops the old static cache) never
// forgets an exit still owed.
var OWED_CACHE = "pending";
var OWED = "/pending";
// Where Exit now leads when the person chose nowhere: /sw.js is served with the portal's setting.
var EXIT_URL = "about:blank";
var WORDS = {"update": "You have a new update"};

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
      return Promise.all(names.filter(function (n) { return n !== CACHE && n !== OWED_CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

// ----- the exit owed -------------------------------------------------------------------------

var owed = null; // null: not read yet; then true or false
var owedRead = null;
var paying = null;

function readOwed() {
  if (!owedRead) {
    owedRead = caches.open(OWED_CACHE).then(function (cache) { return cache.match(OWED); })
      .then(function (hit) { if (owed === null) { owed = !!hit; } }, function () { if (owed === null) { owed = false; } });
  }
  return owedRead.then(function () { return owed; });
}
readOwed();

function setOwed() {
  owed = true;
  return caches.open(OWED_CACHE).then(function (cache) { return cache.put(OWED, new Response("")); }).catch(function () {});
}

function clearOwed() {
  owed = false;
  return caches.delete(OWED_CACHE).catch(function () {});
}

// End the session this browser still holds. True once the server has answered; false while it
// cannot be reached (the flag stays, and the next request tries again). One attempt at a time.
function payOwed() {
  return readOwed().then(function (isOwed) {
    if (!isOwed) { return true; }
    if (!paying) {
      paying = fetch(new Request("/exit?owed=1", { method: "POST", credentials: "same-origin", cache: "no-store", redirect: "manual" }))
        .then(function (response) {
          if (response.status >= 200 && response.status < 300) { return clearOwed().then(function () { return true; }); }
          return false;
        }, function () { return false; })
        .then(function (paid) { paying = null; return paid; });
    }
    return paying;
  });
}

// The destination in the exit link's ?to= (base64url, then a dot and the server's signature, which
// only the server can check): used only here, offline, where neither place can be reached.
function destination(url) {
  var value = url.searchParams.get("to") || "";
  var encoded = value.split(".")[0];
  if (encoded && encoded.length < 1000) {
    try {
      var bytes = atob(encoded.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((encoded.length + 3) % 4));
      var text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(bytes, function (c) { return c.charCodeAt(0); }));
      var chosen = new URL(text);
      if ((chosen.protocol === "https:" || chosen.protocol === "http:") && !chosen.username && !chosen.password) {
        return chosen.href;
      }
    } catch (e) { /* falls back to the default */ }
  }
  return EXIT_URL;
}

// A page that names nothing (no words at all): for the one case with no web address to go to.
function blank() {
  return new Response("<!doctype html><meta charset=\"utf-8\"><title></title>", {
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer" },
  });
}

// /exit, by link, script or beacon: to the network as always. If it cannot get there, or the answer is
// not the exit (an error page from the server or a proxy in front of it), leave anyway and keep the
// exit owed: an exit is never answered with a page from this site.
function leaveAnyway(request, url) {
  return setOwed().then(function () {
    if (request.method !== "GET") { return new Response(null, { status: 204 }); }
    var to = destination(url);
    return to.indexOf("http") === 0 ? Response.redirect(to, 303) : blank();
  });
}

function exitAnswer(request, url) {
  return fetch(request).then(function (response) {
    // The server had the exit (303 seen as an opaque redirect, 204 for the beacon): nothing owed.
    if (response.type !== "opaqueredirect" && !response.ok) { return leaveAnyway(request, url); }
    return clearOwed().then(function () { return response; });
  }, function () { return leaveAnyway(request, url); });
}

// ----- everything else -------------------------------------------------------------------------

function fromCache(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

function offlinePage() {
  return caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); });
}

function ordinary(request, url) {
  if (request.method === "GET" && url.pathname.indexOf("/static/") === 0) { return fromCache(request); }
  if (request.mode === "navigate") { return fetch(request).catch(offlinePage); }
  return fetch(request);
}

// While an exit is owed nothing goes to the server before it: a page that cannot be had without
// the old session gets the offline page (navigations) or a network error; static files may still
// come from the cache, as they hold nothing of anyone.
function afterOwed(request, url) {
  return payOwed().then(function (paid) {
    if (paid) { return ordinary(request, url); }
    if (request.mode === "navigate") { return offlinePage(); }
    if (request.method === "GET" && url.pathname.indexOf("/static/") === 0) {
      return caches.open(CACHE).then(function (cache) { return cache.match(request); }).then(function (hit) { return hit || Response.error(); });
    }
    return Response.error();
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === "/exit") {
    event.respondWith(exitAnswer(request, url));
    return;
  }
  if (owed !== false) {
    // Owed, or not yet known since this worker started: ask first.
    event.respondWith(afterOwed(request, url));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fromCache(request));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(offlinePage));
  }
});

// A reminder: the payload holds only the words the person chose (or the neutral default) and the
// section to open. The same tag for every one, so the lock screen shows one note at most.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var text = typeof data.text === "string" && data.text ? data.text : WORDS.update;
  event.waitUntil(self.registration.showNotification(text, { tag: "update", renotify: true, data: { open: data.open } }));
});

// Tapping it opens the portal (signing in is still needed): an open window if there is one.
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
