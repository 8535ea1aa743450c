/*
 * Portail ORSEC — watch room unread counts (see docs/live-pages.md).
 * Rows (shared by every user of the same scope, pushed live) carry the number of main courante
 * entries the scope may read (data-entries); the page carries this user's "seen" counts
 * (#veille-vus, JSON). Unread = entries - seen, shown in each row's [data-unread] cell.
 */
(function () {
  "use strict";

  var root = document.getElementById("veille");
  var data = document.getElementById("veille-vus");
  if (!root || !data) {
    return;
  }
  var seen = {};
  try {
    seen = JSON.parse(data.textContent) || {};
  } catch (e) {
    seen = {};
  }

  function label(n) {
    var template = root.getAttribute(n === 1 ? "data-text-unread-one" : "data-text-unread-many");
    return (template || "%(n)s").replace("%(n)s", String(n));
  }

  function refresh() {
    var rows = root.querySelectorAll("tr[data-event]");
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var cell = row.querySelector("[data-unread]");
      if (!cell) {
        continue;
      }
      var entries = parseInt(row.getAttribute("data-entries") || "0", 10) || 0;
      var unread = Math.max(0, entries - (seen[row.getAttribute("data-event")] || 0));
      cell.replaceChildren();
      if (unread > 0) {
        var badge = document.createElement("p");
        badge.className = "fr-badge fr-badge--info fr-badge--sm";
        badge.textContent = label(unread);
        cell.appendChild(badge);
      } else {
        var hidden = document.createElement("span");
        hidden.className = "fr-sr-only";
        hidden.textContent = root.getAttribute("data-text-unread-none") || "";
        cell.appendChild(hidden);
        cell.appendChild(document.createTextNode("—"));
      }
    }
  }

  root.addEventListener("orsec:live-swap", refresh);
  refresh();
})();
