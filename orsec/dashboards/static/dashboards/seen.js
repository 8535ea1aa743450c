/*
 * Portail ORSEC — tells the server that this user has the event's page open (watch room unread
 * counts, docs/live-pages.md): a POST on load, and after live updates at most every 15 s.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-seen-url]");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.getAttribute("data-seen-url");
  var csrf = root.getAttribute("data-csrf") || "";
  var last = 0;
  var timer = null;
  var INTERVAL_MS = 15000;

  function post() {
    timer = null;
    last = Date.now();
    window
      .fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
      })
      .catch(function () {
        /* best effort: the next update tries again */
      });
  }

  function schedule() {
    if (timer !== null || document.visibilityState === "hidden") {
      return;
    }
    timer = window.setTimeout(post, Math.max(0, last + INTERVAL_MS - Date.now()));
  }

  root.addEventListener("orsec:live-swap", schedule);
  document.addEventListener("visibilitychange", schedule);
  post();
})();
