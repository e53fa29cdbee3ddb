// The public queue page, made live: the office's stream of the page
// replaces the lines block the server renders. Without scripts the page
// reloads itself every 30 seconds (a <noscript> refresh). Embedded in
// another site's frame, the page drops its own header and footer.
(function () {
  "use strict";
  if (window.self !== window.top) document.documentElement.classList.add("embedded");
  var root = document.getElementById("queue-now");
  if (!root || !window.EventSource) return;
  var es = new EventSource(root.getAttribute("data-events"));
  es.addEventListener("queue", function (ev) {
    root.innerHTML = JSON.parse(ev.data).html; // rendered and escaped by the server's template
    root.setAttribute("data-live", "1");
  });
})();
