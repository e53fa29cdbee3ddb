// The clerk console, made quicker: one-key shortcuts for every move (the
// buttons show their key) and live updates of the panel when the office
// changes. Without it every move is a plain form post.
(function () {
  "use strict";
  var panel = document.getElementById("panel");
  if (!panel) return;

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var key = e.key.toLowerCase();
    if (key === "t") {
      var to = document.getElementById("to_service");
      if (to) { e.preventDefault(); to.focus(); }
      return;
    }
    var btn = panel.querySelector('button[data-key="' + key + '"]');
    if (btn && !btn.disabled) { e.preventDefault(); btn.click(); }
  });

  var pending = false;
  function refresh() {
    if (panel.contains(document.activeElement) && typing(document.activeElement)) { pending = true; return; }
    pending = false;
    fetch("/staff/console/panel", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) panel.innerHTML = html; })
      .catch(function () {});
  }
  panel.addEventListener("focusout", function () { if (pending) setTimeout(refresh, 0); });
  if (window.EventSource) {
    var es = new EventSource("/staff/events");
    es.addEventListener("changed", refresh);
  }
})();
