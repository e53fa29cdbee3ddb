// The e-ticket page, made live: the ticket's own event stream replaces
// the status block the server renders, and when the ticket is called the
// phone vibrates, sounds and shows a notification where the browser
// allows. Without scripts the page reloads itself every 30 seconds
// (a <noscript> refresh).
(function () {
  "use strict";
  var root = document.getElementById("ticket");
  if (!root || !window.EventSource) return;
  var status = document.getElementById("status");
  var state = root.getAttribute("data-state");
  var audio = null;

  document.documentElement.classList.add("js");

  function tone() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [0, 0.45].forEach(function (at) {
        var o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = at ? 660 : 880;
        g.gain.setValueAtTime(0.0001, audio.currentTime + at);
        g.gain.exponentialRampToValueAtTime(0.4, audio.currentTime + at + 0.03);
        g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + at + 0.4);
        o.connect(g); g.connect(audio.destination);
        o.start(audio.currentTime + at); o.stop(audio.currentTime + at + 0.42);
      });
    } catch (e) { /* no sound: the screen still says it */ }
  }

  function called(t) {
    if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 800]);
    tone();
    document.title = t.notice;
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification(t.notice, { tag: "numerek-" + t.number, renotify: true, requireInteraction: true }); } catch (e) {}
    }
  }

  var notify = document.getElementById("notify");
  if (notify && window.Notification && Notification.permission !== "denied") {
    notify.hidden = Notification.permission === "granted";
    notify.addEventListener("click", function () {
      // A tap also lets the page play sound later (browsers need a gesture).
      tone();
      Notification.requestPermission().then(function (p) { notify.hidden = p === "granted"; });
    });
  }

  var es = new EventSource(root.getAttribute("data-events"));
  es.addEventListener("ticket", function (ev) {
    var t = JSON.parse(ev.data);
    status.innerHTML = t.html; // rendered and escaped by the server's template
    root.setAttribute("data-state", t.state);
    root.setAttribute("data-live", "1");
    if (t.state === "called" && state !== "called") called(t);
    if (t.state === "done" || t.state === "no-show" || t.state === "cancelled") {
      es.close();
      window.location.reload();
    }
    state = t.state;
  });
})();
