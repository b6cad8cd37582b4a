// bpcalc explain --format html: step through the explanation, one node at a
// time, marking the node of the current step on the Graphviz picture.
// The steps are <li class="step" data-node="3" data-users="4 5"> elements;
// the picture's nodes are <g class="node"><title>n3</title>...</g>.
// The current step is in the address (#step=7). No library, no network.
// The words it writes itself come from the page, in the page's language: the
// JSON object in <body data-words='{"counter": "step {current} of {total}"}'>.
(function () {
  "use strict";
  var words = {counter: "step {current} of {total}"};
  try {
    var given = JSON.parse(document.body.getAttribute("data-words") || "{}");
    Object.keys(given).forEach(function (k) { words[k] = given[k]; });
  } catch (e) { /* an older page: English */ }
  var steps = Array.prototype.slice.call(document.querySelectorAll("li.step"));
  var counter = document.getElementById("counter");
  var svgNodes = {};
  Array.prototype.forEach.call(document.querySelectorAll("#picture g.node"), function (g) {
    var title = g.querySelector("title");
    if (title) { svgNodes[title.textContent.trim()] = g; }
  });
  var SVG = "http://www.w3.org/2000/svg";
  var current = 0;

  function stepFromHash() {
    var m = /(?:^#|&)step=(\d+)/.exec(window.location.hash || "");
    return m ? parseInt(m[1], 10) : 1;
  }

  function clamp(k) {
    return Math.max(1, Math.min(steps.length, k || 1));
  }

  function unmark() {
    Array.prototype.forEach.call(document.querySelectorAll("#picture .bp-mark"), function (r) {
      r.parentNode.removeChild(r);
    });
    Object.keys(svgNodes).forEach(function (key) {
      svgNodes[key].classList.remove("bp-current", "bp-user");
    });
  }

  // A rounded box behind node `id` (the node's own shapes vary: circle, text).
  function mark(id, kind) {
    var g = svgNodes["n" + id];
    if (!g) { return; }
    g.classList.add(kind);
    var box;
    try { box = g.getBBox(); } catch (e) { return; }
    var pad = 4;
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("class", "bp-mark " + kind);
    r.setAttribute("x", box.x - pad);
    r.setAttribute("y", box.y - pad);
    r.setAttribute("width", box.width + 2 * pad);
    r.setAttribute("height", box.height + 2 * pad);
    r.setAttribute("rx", 6);
    var first = g.querySelector("title");
    g.insertBefore(r, first ? first.nextSibling : g.firstChild);
    if (kind === "bp-current") { reveal(r); }
  }

  // Scroll the picture (not the page) so that the marked node is in view.
  function reveal(el) {
    var box = document.getElementById("picture");
    var a = el.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (a.left < b.left || a.right > b.right) {
      box.scrollLeft += (a.left + a.right) / 2 - (b.left + b.right) / 2;
    }
    if (a.top < b.top || a.bottom > b.bottom) {
      box.scrollTop += (a.top + a.bottom) / 2 - (b.top + b.bottom) / 2;
    }
  }

  function ids(text) {
    return (text || "").split(" ").filter(function (w) { return w !== ""; });
  }

  // A template of the page ("step {current} of {total}") with its {names} filled in.
  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function show(k, fromHash) {
    current = clamp(k);
    steps.forEach(function (li, j) {
      var n = j + 1;
      li.classList.toggle("done", n < current);
      li.classList.toggle("current", n === current);
      li.classList.toggle("later", n > current);
      li.setAttribute("aria-current", n === current ? "step" : "false");
    });
    unmark();
    var li = steps[current - 1];
    if (li) {
      ids(li.getAttribute("data-users")).forEach(function (u) { mark(u, "bp-user"); });
      if (li.getAttribute("data-node") !== "") { mark(li.getAttribute("data-node"), "bp-current"); }
      if (li.scrollIntoView) { li.scrollIntoView({block: "nearest"}); }
    }
    counter.textContent = say(words.counter, {current: current, total: steps.length});
    document.getElementById("prev").disabled = current === 1;
    document.getElementById("first").disabled = current === 1;
    document.getElementById("next").disabled = current === steps.length;
    document.getElementById("last").disabled = current === steps.length;
    if (!fromHash && stepFromHash() !== current) {
      try { window.history.replaceState(null, "", "#step=" + current); } catch (e) { /* srcdoc */ }
    }
  }

  document.getElementById("first").addEventListener("click", function () { show(1); });
  document.getElementById("prev").addEventListener("click", function () { show(current - 1); });
  document.getElementById("next").addEventListener("click", function () { show(current + 1); });
  document.getElementById("last").addEventListener("click", function () { show(steps.length); });
  steps.forEach(function (li, j) {
    li.addEventListener("click", function () { show(j + 1); });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
    var keys = {ArrowRight: 1, ArrowDown: 1, PageDown: 1, " ": 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1};
    if (ev.key in keys) {
      show(current + keys[ev.key]);
    } else if (ev.key === "Home") {
      show(1);
    } else if (ev.key === "End") {
      show(steps.length);
    } else {
      return;
    }
    ev.preventDefault();
  });
  window.addEventListener("hashchange", function () { show(stepFromHash(), true); });
  document.documentElement.classList.add("js");
  show(stepFromHash(), true);
}());
