/* Sharing, as a progressive enhancement of the plain share links (templates/base.html): the browser's own
   share sheet (Web Share API) and copy-link where the browser has them, and a Mastodon link to the server
   the visitor types. First-party; it sends nothing anywhere and stores nothing. */
(function () {
  "use strict";
  if (!document.querySelector) return;
  var box = document.getElementById("share");
  if (!box) return;

  // Which of these the page shows was decided before the first paint (static/early.js marks <html>, the
  // stylesheet shows them), so that nothing moves; here they only get their behaviour.
  var share = box.querySelector(".web-share");
  if (share && navigator.share) {
    share.addEventListener("click", function () {
      navigator.share({ title: share.getAttribute("data-title"), url: share.getAttribute("data-url") }).catch(function () {});
    });
  }

  var copy = box.querySelector(".copy-link");
  if (copy && navigator.clipboard && window.isSecureContext) {
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(copy.getAttribute("data-url")).then(function () {
        copy.textContent = copy.getAttribute("data-done");
      }, function () {});
    });
  }

  var server = box.querySelector("#mastodon-server");
  var go = box.querySelector(".mastodon-go");
  if (server && go) {
    server.addEventListener("input", function () {
      // Only a host name: "https://", a trailing "/" or "@user@" before it are dropped.
      var host = server.value.trim().replace(/^https?:\/\//i, "").replace(/\/.*$/, "").replace(/^.*@/, "");
      var ok = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host);
      go.hidden = !ok;
      if (ok) go.href = "https://" + host + "/share?text=" + encodeURIComponent(server.getAttribute("data-text"));
    });
  }
})();
