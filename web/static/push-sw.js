// The e-ticket's service worker (served as /e/sw.js, scope /e/): shows the
// server's pushes as notifications, already written in the ticket's
// language by the server, and opens or focuses the ticket's page on a tap.
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  var m;
  try {
    m = event.data ? event.data.json() : {};
  } catch (e) {
    m = { title: event.data.text() };
  }
  var options = {
    body: m.body || "",
    tag: m.tag || "numerek",
    // A recall replaces the call's notification and buzzes again.
    renotify: true,
    requireInteraction: !!m.urgent,
    vibrate: m.urgent ? [400, 150, 400, 150, 800] : [200, 100, 200],
    icon: "/static/icon-192.png",
    lang: m.lang || "",
    data: { url: m.url || "/" }
  };
  event.waitUntil(self.registration.showNotification(m.title || "Numerek", options).then(function () {
    // An open e-ticket page hears of it too (it updates from its own stream).
    return self.clients.matchAll({ type: "window", includeUncontrolled: true });
  }).then(function (pages) {
    pages.forEach(function (p) { p.postMessage({ type: "push", message: m }); });
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL(event.notification.data.url, self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (pages) {
    for (var i = 0; i < pages.length; i++) {
      if (pages[i].url.split("?")[0] === url && "focus" in pages[i]) return pages[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});
