// The clerk console, made quicker: one-key shortcuts for every move (the
// buttons show their key) and live updates of the panel when the office
// changes, keeping what the clerk was doing in it (focus, ticked outcomes,
// a note being written). Without it every move is a plain form post.
(function () {
  "use strict";
  var panel = document.getElementById("panel");
  if (!panel) return;

  // typing: keys go to the field, not to the shortcuts (a checkbox or a
  // button takes no letters, so shortcuts work from there).
  function typing(el) {
    if (!el) return false;
    if (el.tagName === "INPUT") return !/^(checkbox|radio|button|submit|hidden)$/.test(el.type);
    return el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
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

  // Undo is offered for a few seconds: its button goes when its time is up.
  function expireUndo() {
    var form = document.getElementById("undo-form");
    if (!form) return;
    var left = Number(form.getAttribute("data-left-ms"));
    setTimeout(function () {
      var f = document.getElementById("undo-form");
      if (f === form) { var b = f.querySelector("button"); if (b) b.disabled = true; }
    }, Math.max(left, 0));
  }

  // where names the focused element so that it can be found again in the
  // new panel.
  function where(el) {
    if (!el || !panel.contains(el)) return null;
    if (el.id) return "#" + CSS.escape(el.id);
    if (el.getAttribute("data-key")) return '[data-key="' + el.getAttribute("data-key") + '"]';
    if (el.name && el.value) return '[name="' + CSS.escape(el.name) + '"][value="' + CSS.escape(el.value) + '"]';
    return null;
  }

  // finishState is what the clerk has put in the finish form, for its
  // ticket only.
  function finishState() {
    var f = document.getElementById("finish-form");
    if (!f) return null;
    var ticked = [];
    f.querySelectorAll('input[name="outcomes"]:checked').forEach(function (b) { ticked.push(b.value); });
    var note = f.querySelector("#finish_note");
    return { ticket: f.getAttribute("data-ticket"), ticked: ticked, note: note ? note.value : "" };
  }

  function restoreFinish(st) {
    var f = document.getElementById("finish-form");
    if (!st || !f || f.getAttribute("data-ticket") !== st.ticket) return;
    st.ticked.forEach(function (v) {
      var b = f.querySelector('input[name="outcomes"][value="' + CSS.escape(v) + '"]');
      if (b) b.checked = true;
    });
    var note = f.querySelector("#finish_note");
    if (note) note.value = st.note;
  }

  var pending = false;
  function refresh() {
    if (panel.contains(document.activeElement) && typing(document.activeElement)) { pending = true; return; }
    pending = false;
    fetch("/staff/console/panel", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        // The counter was taken over (or the session ended): the page
        // says so.
        if (r.status === 409 || r.status === 401) { location.assign("/staff/console"); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) return;
        var focus = where(document.activeElement);
        var st = finishState();
        panel.innerHTML = html;
        restoreFinish(st);
        if (focus) { var el = panel.querySelector(focus); if (el) el.focus(); }
        expireUndo();
      })
      .catch(function () {});
  }
  panel.addEventListener("focusout", function () { if (pending) setTimeout(refresh, 0); });
  expireUndo();
  if (window.EventSource) {
    var es = new EventSource("/staff/events");
    es.addEventListener("changed", refresh);
  }
})();
