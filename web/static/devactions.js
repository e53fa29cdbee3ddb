// A device's remote actions page: while an action waits for the device's
// answer, look again every 2 seconds (without scripts a <noscript>
// refresh does the same).
(function () {
  "use strict";
  var actions = document.getElementById("actions");
  if (!actions || !actions.hasAttribute("data-pending")) return;
  setTimeout(function () { window.location.reload(); }, 2000);
})();
