/* Protest calendar: move events that have ended since the page was built from "Upcoming" to "Past".
   First-party and optional: without JavaScript the page stays correct as of its stated build date.
   Reads only the <time datetime> attributes of each event (dt-end, else dt-start). */
(function () {
  "use strict";
  var upcoming = document.getElementById("upcoming-events");
  var past = document.getElementById("past-events");
  if (!upcoming || !past || !document.querySelector) return;

  function finishes(item) {
    var time = item.querySelector("time.dt-end") || item.querySelector("time.dt-start");
    var value = time && time.getAttribute("datetime");
    if (!value) return NaN;
    var day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (day) return new Date(+day[1], +day[2] - 1, +day[3] + 1).getTime(); // all-day: over at the end of that day
    return Date.parse(value);
  }

  var now = Date.now();
  var moved = 0;
  Array.prototype.slice.call(upcoming.children).forEach(function (item) {
    if (finishes(item) <= now) {
      past.insertBefore(item, past.firstChild); // upcoming is soonest first, so past stays newest first
      moved += 1;
    }
  });
  if (!moved) return;

  function showEmpty(list) {
    var none = list.parentNode.querySelector(".none");
    if (none) none.hidden = list.children.length > 0;
  }
  showEmpty(upcoming);
  showEmpty(past);
  var note = document.querySelector(".moved-note");
  if (note) {
    note.textContent = " Since then " + moved + (moved === 1 ? " event has" : " events have") + " ended and moved to Past.";
    note.hidden = false;
  }
})();
