// The fleet pages reload themselves so an admin watching them sees a
// device go offline or its paper run out; without scripts a <noscript>
// refresh does the same. A reload waits while the reader selects text.
(function () {
  "use strict";
  var every = 15000;
  function reload() {
    var sel = window.getSelection && window.getSelection();
    if (sel && String(sel).length > 0) {
      setTimeout(reload, every);
      return;
    }
    window.location.reload();
  }
  setTimeout(reload, every);
})();
