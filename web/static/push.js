// The e-ticket's "notify me": registers the service worker (push-sw.js,
// served as /e/sw.js), asks for permission on a tap, subscribes with the
// server's VAPID key and hands the subscription to the server for this
// ticket, which then pushes the call even with the page closed. Where a
// browser tab has no Push API but the page could be a home-screen app
// (iOS Safari before "Add to Home Screen"), it says how.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box || !("serviceWorker" in navigator)) return;
  var button = document.getElementById("push-notify");
  var status = document.getElementById("push-status");
  var csrf = box.querySelector("input[name=csrf]").value;

  function say(what) { status.textContent = box.getAttribute("data-" + what); }

  var registered = navigator.serviceWorker.register(box.getAttribute("data-sw"), { scope: "/e/" });
  registered.catch(function () { /* no worker: the page alone still alerts */ });

  if (!("PushManager" in window) || !window.Notification) {
    // iOS gives the Push API to home-screen apps only; navigator.standalone
    // exists (false) exactly in its browser tabs.
    if (navigator.standalone === false) {
      button.hidden = true;
      document.getElementById("push-ios").hidden = false;
      box.hidden = false;
    }
    return;
  }
  box.hidden = false;
  if (Notification.permission === "denied") {
    button.hidden = true;
    say("denied");
    return;
  }

  function serverKey() {
    var s = box.getAttribute("data-key").replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(s + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function hand(sub) {
    var j = sub.toJSON();
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    body.set("endpoint", j.endpoint);
    body.set("p256dh", j.keys.p256dh);
    body.set("auth", j.keys.auth);
    return fetch(box.getAttribute("data-action"), { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("the server said " + r.status); });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission().then(function (p) {
      if (p !== "granted") throw "denied";
      return registered.then(function () { return navigator.serviceWorker.ready; });
    }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (s) {
        return s || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey() });
      });
    }).then(hand).then(function () {
      button.hidden = true;
      box.setAttribute("data-subscribed", "1");
      say("done");
    }).catch(function (e) {
      button.disabled = false;
      say(e === "denied" ? "denied" : "failed");
    });
  });
})();
