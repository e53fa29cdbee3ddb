// The lockers page reloads itself so that a door left open, a document
// put in or picked up shows without the clerk asking. It waits while the
// clerk types in a form, has a field focused or selects text, so nothing
// typed is lost; a page drawn as a form's answer (its address is the
// form's) is never reloaded, as that would post the form again.
(function () {
  "use strict";
  var every = 30000;
  if (window.location.pathname !== "/staff/lockers") {
    return;
  }
  function busy() {
    var sel = window.getSelection && window.getSelection();
    if (sel && String(sel).length > 0) {
      return true;
    }
    var active = document.activeElement;
    if (active && active.form) {
      return true;
    }
    var fields = document.querySelectorAll("form input, form select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden") {
        continue;
      }
      if (f.type === "checkbox" ? f.checked !== f.defaultChecked : f.tagName === "SELECT" ? changedSelect(f) : f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }
  // A select without a default shows its first option.
  function changedSelect(s) {
    var initial = 0;
    for (var i = 0; i < s.options.length; i++) {
      if (s.options[i].defaultSelected) {
        initial = i;
      }
    }
    return s.selectedIndex !== initial;
  }
  function reload() {
    if (busy()) {
      setTimeout(reload, every);
      return;
    }
    window.location.reload();
  }
  setTimeout(reload, every);
})();
