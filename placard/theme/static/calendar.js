/* The visitor's clock decides what is upcoming and what is over, on the calendar, home and event pages.
   First-party and optional: without JavaScript each page stays correct as of its stated build date.
   Reads only <time datetime> attributes and data-hide-after / data-show-after (an event's end, ISO 8601);
   every text it shows is already in the page, in the page's language. */
(function () {
  "use strict";
  if (!document.querySelectorAll) return;
  var now = Date.now();

  function finishes(item) {
    var time = item.querySelector("time.dt-end") || item.querySelector("time.dt-start");
    var value = time && time.getAttribute("datetime");
    if (!value) return NaN;
    var day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (day) return new Date(+day[1], +day[2] - 1, +day[3] + 1).getTime(); // all-day: over at the end of that day
    return Date.parse(value);
  }

  // Home and event pages: the next-event card hides, "this event is over" shows, once the event has ended.
  Array.prototype.slice.call(document.querySelectorAll("[data-hide-after]")).forEach(function (element) {
    var end = Date.parse(element.getAttribute("data-hide-after"));
    if (!isNaN(end)) element.hidden = end <= now;
  });
  Array.prototype.slice.call(document.querySelectorAll("[data-show-after]")).forEach(function (element) {
    var end = Date.parse(element.getAttribute("data-show-after"));
    if (!isNaN(end)) element.hidden = end > now;
  });

  // Calendar page: move events that have ended since the page was built from "Upcoming" to "Past".
  var upcoming = document.getElementById("upcoming-events");
  var past = document.getElementById("past-events");
  if (!upcoming || !past) return;
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
  if (note) note.hidden = false;
})();
