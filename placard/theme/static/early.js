/* What must be decided before the first paint, so that nothing moves once the page is shown (no layout shift).
   Loaded in every page's <head>, before the stylesheets. It does two things:

   1. It marks on <html> what this browser can do (js, can-share, can-copy), so the stylesheet shows the share
      buttons that work here from the start (static/share.js then only listens to them).
   2. The visitor's clock decides what is upcoming and what is over, on the calendar, home and event pages. It reads the event ends listed in its own data-ends attribute (ISO 8601, written at build) and, for each one
   the visitor's clock is past, adds a rule hiding what was upcoming ([data-hide-after="that end"]) and showing
   what replaces it ([data-show-after="that end"], already in the page, in its language). Browsers without
   constructable stylesheets get the same result from the hidden attributes once the page is parsed.
   First-party and optional: without JavaScript each page stays correct as of its stated build date. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.className += " js" + (navigator.share ? " can-share" : "") + (navigator.clipboard && window.isSecureContext ? " can-copy" : "");

  var script = document.currentScript;
  if (!script || !document.querySelectorAll) return;
  var now = Date.now();
  var over = (script.getAttribute("data-ends") || "").split(" ").filter(function (end) {
    return /^[0-9T:.+Z-]+$/.test(end) && Date.parse(end) <= now; // only the build's own timestamps reach a selector
  });
  if (!over.length) return;

  if (window.CSSStyleSheet && "adoptedStyleSheets" in document && "replaceSync" in CSSStyleSheet.prototype) {
    // --shown-as: each shown element's own display (style.css), since [hidden] is display:none !important.
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(over.map(function (end) {
      return '[data-hide-after="' + end + '"]{display:none!important}' +
        '[data-show-after="' + end + '"]{display:var(--shown-as,block)!important}';
    }).join("\n"));
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    over.forEach(function (end) {
      Array.prototype.slice.call(document.querySelectorAll('[data-hide-after="' + end + '"]')).forEach(function (element) {
        element.hidden = true;
      });
      Array.prototype.slice.call(document.querySelectorAll('[data-show-after="' + end + '"]')).forEach(function (element) {
        element.hidden = false;
      });
    });
  });
})();
