// The search page: Pagefind's engine (pagefind/pagefind.js, built with the site) loaded from this site,
// which fetches only the index chunks a query needs. From file:// browsers refuse to load it, so the
// page's notice (links to the archives) stays; it is hidden only once the engine has started.
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box || location.protocol === "file:") return;
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");

  function say(template, query, count) {
    return template.replace("{query}", query).replace("{count}", String(count));
  }

  // An excerpt is text with <mark> around the words found: copy only those, never markup.
  function excerptOf(html) {
    var p = document.createElement("p");
    var parsed = new DOMParser().parseFromString("<body>" + html, "text/html").body;
    parsed.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        p.appendChild(mark);
      } else {
        p.appendChild(document.createTextNode(node.textContent));
      }
    });
    return p;
  }

  function show(query, results) {
    list.textContent = "";
    results.forEach(function (data) {
      var item = document.createElement("li");
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      // Pagefind gives each result's path from the folder its bundle was loaded from (the site's, wherever
      // it is served: a domain's root, a sub-path, a mirror), so it is resolved against this page's host.
      link.href = new URL(data.url, location.href).href;
      link.textContent = (data.meta && data.meta.title) || data.url;
      heading.appendChild(link);
      item.appendChild(heading);
      item.appendChild(excerptOf(data.excerpt || ""));
      list.appendChild(item);
    });
    status.textContent = query ? say(results.length ? box.getAttribute("data-found") : box.getAttribute("data-none"), query, results.length) : "";
  }

  // A large site's index is in shards (placard/search.py): the engine's script names the other shards of this
  // page's language, which Pagefind merges into one search (their engine is this one, loaded once).
  var bundle = new URL(box.getAttribute("data-bundle"), location.href).href;
  var shards = [];
  import(bundle).then(function (pagefind) {
    shards = (pagefind.placardShards || {})[document.documentElement.lang] || [];
    return pagefind.init().then(function () {
      return Promise.all(shards.map(function (folder) { return pagefind.mergeIndex(new URL(folder, bundle).href); }));
    }).then(function () { return pagefind; });
  }).then(function (pagefind) {
    document.getElementById("search-unavailable").hidden = true;
    document.getElementById("search-form").hidden = false;

    // A shard that lacks one of the words searched ignores it (Pagefind drops words its index does not have, and
    // with none left matches anything): with shards, a result must hold every word (its stem: the start of it).
    function holdsEvery(words, data) {
      var text = (((data.meta && data.meta.title) || "") + " " + (data.content || "")).toLowerCase();
      return words.every(function (word) { return text.indexOf(word.slice(0, Math.max(3, word.length - 2))) !== -1; });
    }

    // The ten best results, fetched ten at a time while some are set aside; a title that is the query itself first
    // (each shard scores its pages by its own statistics, so their scores compare only roughly).
    function best(query, results) {
      var words = query.toLowerCase().split(/[\s.,;:!?"'()«»“”]+/).filter(Boolean);
      var kept = [];
      function more(start) {
        return Promise.all(results.slice(start, start + 10).map(function (r) { return r.data(); })).then(function (data) {
          kept = kept.concat(shards.length ? data.filter(function (d) { return holdsEvery(words, d); }) : data);
          return kept.length >= 10 || start + 10 >= results.length ? kept.slice(0, 10) : more(start + 10);
        });
      }
      return more(0).then(function (data) {
        var exact = function (d) { return ((d.meta && d.meta.title) || "").trim().toLowerCase() === query.toLowerCase() ? 0 : 1; };
        return data.map(function (d, i) { return [exact(d), i, d]; }).sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
          .map(function (entry) { return entry[2]; });
      });
    }

    function run() {
      var query = input.value.trim();
      if (!query) { show("", []); return; }
      pagefind.debouncedSearch(query, {}, 250).then(function (search) {
        if (search === null) return;  // a later keystroke superseded this search
        return best(query, search.results).then(function (data) {
          if (input.value.trim() === query) show(query, data);
        });
      });
    }
    input.addEventListener("input", run);
    var asked = new URLSearchParams(location.search).get("q");
    if (asked) { input.value = asked; run(); }
  }).catch(function () { /* the notice with the archives stays */ });
})();
