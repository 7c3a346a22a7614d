/* The dashboard's small front-end behaviour, served inside the page itself (no other origin).

   ipywidgets cannot give its elements roles or keyboard behaviour; this script adds them, by
   the stable pr-* classes the kernel gives its widgets (prospects.dashboard). It never decides
   what is shown: it only clicks the dashboard's own buttons (a bar of the chart, a column
   header), and the kernel decides what that opens.

   - landmarks and names: the filters are a search region, the figures the main region, the
     toggle buttons groups with their pressed state (aria-pressed);
   - the drill-down is a modal dialog: labelled by its heading, focus moved in and kept there,
     Escape closes it, focus goes back to what opened it;
   - the chart: one tab stop, arrows move from month to month (up and down between the bar and
     the point of the won line), Enter or a click opens the month's drill-down;
   - a column header of the drill-down sorts (through the kernel's button for that column).
   Written without template syntax: the page template includes it as it is. */
(function () {
  "use strict";

  var KEYS = { ENTER: "Enter", SPACE: " ", ESC: "Escape", TAB: "Tab" };
  var scheduled = false, dialogOpen = false, opener = null, lastActivated = null;
  var chartFocus = { kind: "pr-bar", month: null }, sortFocus = null;

  function root() { return document.querySelector(".pr-root"); }

  function set(el, attrs) {
    if (!el) { return; }
    Object.keys(attrs).forEach(function (k) {
      if (el.getAttribute(k) !== attrs[k]) { el.setAttribute(k, attrs[k]); }
    });
  }

  var ids = 0;
  function idOf(el) {
    if (!el.id) { ids += 1; el.id = "pr-label-" + ids; }
    return el.id;
  }

  function visible(el) {
    return !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  }

  function focusables(container) {
    var all = container.querySelectorAll("button, select, input, a[href], [tabindex]:not([tabindex='-1'])");
    return Array.prototype.filter.call(all, function (el) {
      return !el.disabled && visible(el) && !el.closest(".pr-bridges");
    });
  }

  /* -- roles, names and states --------------------------------------------------------- */
  function enhance() {
    scheduled = false;
    var r = root();
    if (!r) { return; }
    set(r.querySelector(".pr-filters"), { role: "search", "aria-labelledby": "pr-filters-heading" });
    set(r.querySelector(".pr-body"), { role: "main" });
    set(r.querySelector(".pr-org"), { role: "group", "aria-labelledby": "pr-org-label" });
    r.querySelectorAll(".widget-toggle-buttons").forEach(function (group) {
      var attrs = { role: "group" };
      var label = group.querySelector(":scope > .widget-label");
      if (label && label.textContent.trim()) { attrs["aria-labelledby"] = idOf(label); }
      set(group, attrs);
      group.querySelectorAll("button").forEach(function (b) {
        set(b, { "aria-pressed": b.classList.contains("mod-active") ? "true" : "false" });
      });
    });
    r.querySelectorAll(".pr-bridges").forEach(function (box) { set(box, { "aria-hidden": "true" }); });
    var drill = r.querySelector(".pr-drill");
    if (drill) { set(drill, { role: "dialog", "aria-modal": "true", "aria-labelledby": "pr-drill-heading" }); }
    roving(r);
    dialog(r);
    if (sortFocus && dialogOpen) {
      var again = r.querySelector(".pr-drill-table .pr-sort[data-col='" + sortFocus + "']");
      if (again && document.activeElement !== again && (!document.activeElement || document.activeElement === document.body)) {
        again.focus();
      }
    }
  }

  function schedule() {
    if (!scheduled) { scheduled = true; window.requestAnimationFrame(enhance); }
  }

  /* -- the drill-down dialog ------------------------------------------------------------ */
  function backdrop(r) { return r.querySelector(".pr-drill-backdrop"); }

  function dialog(r) {
    var bd = backdrop(r);
    var shown = !!bd && bd.style.display !== "none" && visible(bd);
    if (shown && !dialogOpen) {
      dialogOpen = true;
      opener = lastActivated;
      Array.prototype.forEach.call(r.children, function (child) {
        if (child !== bd) { child.inert = true; }
      });
      var heading = document.getElementById("pr-drill-heading");
      (heading || r.querySelector(".pr-drill-close") || bd).focus();
    } else if (!shown && dialogOpen) {
      dialogOpen = false;
      sortFocus = null;
      Array.prototype.forEach.call(r.children, function (child) { child.inert = false; });
      var back = opener && opener.element;
      if (back && !back.isConnected && opener.selector) { back = r.querySelector(opener.selector); }
      if (back) { back.focus(); }
      opener = null;
    }
  }

  /* what was activated last, and how to find it again once the kernel re-renders it */
  function remember(target) {
    var el = target.closest(".pr-hit, .pr-bar, .pr-point, button, select, input, a");
    if (!el || (root() && !root().contains(el)) || el.closest(".pr-drill, .pr-bridges")) { return; }
    var selector = null, box = el.closest("[class*='pr-cell-'], [class*='pr-bucket-']");
    if (el.classList.contains("pr-bar") || el.classList.contains("pr-point")) {
      selector = "." + (el.classList.contains("pr-bar") ? "pr-bar" : "pr-point") + "[data-month='" + el.getAttribute("data-month") + "']";
    } else if (box) {
      var cls = Array.prototype.find.call(box.classList, function (c) { return /^pr-(cell|bucket)-/.test(c); });
      selector = "." + cls + " .pr-hit";
    }
    lastActivated = { element: el, selector: selector };
  }

  function trapTab(e) {
    var panel = document.querySelector(".pr-drill");
    if (!panel) { return; }
    var items = focusables(panel);
    if (!items.length) { return; }
    var first = items[0], last = items[items.length - 1], here = document.activeElement;
    if (items.indexOf(here) === -1) {  // on the heading (or lost): into the cycle
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    } else if (e.shiftKey && here === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && here === last) {
      e.preventDefault();
      first.focus();
    }
  }

  /* -- the chart: one tab stop, arrows between months ------------------------------------ */
  function chartItems(r, kind) {
    return Array.prototype.slice.call(r.querySelectorAll(".pr-chart ." + kind));
  }

  function roving(r) {
    var bars = chartItems(r, "pr-bar");
    if (!bars.length) { return; }
    var items = bars.concat(chartItems(r, "pr-point"));
    var current = null;
    if (chartFocus.month) {
      current = r.querySelector(".pr-chart ." + chartFocus.kind + "[data-month='" + chartFocus.month + "']");
    }
    current = current || bars[0];
    items.forEach(function (el) { set(el, { tabindex: el === current ? "0" : "-1" }); });
  }

  function moveInChart(el, key) {
    var r = root(), kind = el.classList.contains("pr-point") ? "pr-point" : "pr-bar";
    var list = chartItems(r, kind), i = list.indexOf(el), next = null;
    if (key === "ArrowRight") { next = list[Math.min(list.length - 1, i + 1)]; }
    if (key === "ArrowLeft") { next = list[Math.max(0, i - 1)]; }
    if (key === "Home") { next = list[0]; }
    if (key === "End") { next = list[list.length - 1]; }
    if (key === "ArrowUp" || key === "ArrowDown") {
      var other = key === "ArrowUp" ? "pr-point" : "pr-bar";
      next = r.querySelector(".pr-chart ." + other + "[data-month='" + el.getAttribute("data-month") + "']");
    }
    if (next && next !== el) {
      chartFocus = { kind: next.classList.contains("pr-point") ? "pr-point" : "pr-bar", month: next.getAttribute("data-month") };
      roving(r);
      next.focus();
    }
    return !!next;
  }

  function openMonth(el) {
    var month = el.getAttribute("data-month");
    var kind = el.classList.contains("pr-point") ? "pr-won-" : "pr-month-";
    chartFocus = { kind: el.classList.contains("pr-point") ? "pr-point" : "pr-bar", month: month };
    remember(el);
    var button = document.querySelector("button." + kind + month);
    if (button) { button.click(); }
  }

  function sortBy(el) {
    var col = el.getAttribute("data-col");
    sortFocus = col;
    var button = document.querySelector("button.pr-sortcol-" + col);
    if (button) { button.click(); }
  }

  /* -- events ----------------------------------------------------------------------------- */
  document.addEventListener("click", function (e) {
    if (!e.target || !e.target.closest) { return; }
    remember(e.target);
    var mark = e.target.closest(".pr-chart .pr-bar, .pr-chart .pr-point");
    if (mark) { openMonth(mark); return; }
    var sort = e.target.closest(".pr-drill-table .pr-sort");
    if (sort) { sortBy(sort); }
  }, true);

  document.addEventListener("keydown", function (e) {
    if (!e.target || !e.target.closest) { return; }
    if (dialogOpen && e.key === KEYS.ESC) {
      var close = document.querySelector("button.pr-drill-close");
      if (close) { e.preventDefault(); close.click(); }
      return;
    }
    if (dialogOpen && e.key === KEYS.TAB) { trapTab(e); return; }
    var mark = e.target.closest(".pr-chart .pr-bar, .pr-chart .pr-point");
    if (mark) {
      if (e.key === KEYS.ENTER || e.key === KEYS.SPACE) { e.preventDefault(); openMonth(mark); return; }
      if (/^(Arrow(Left|Right|Up|Down)|Home|End)$/.test(e.key) && moveInChart(mark, e.key)) { e.preventDefault(); }
      return;
    }
    if (e.key === KEYS.ENTER || e.key === KEYS.SPACE) { remember(e.target); }
  }, true);

  document.addEventListener("focusin", function (e) {
    var mark = e.target && e.target.closest && e.target.closest(".pr-chart .pr-bar, .pr-chart .pr-point");
    if (mark) {
      chartFocus = { kind: mark.classList.contains("pr-point") ? "pr-point" : "pr-bar", month: mark.getAttribute("data-month") };
    }
  });

  function watch() {
    new MutationObserver(schedule).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["class", "style"] });
    schedule();
  }
  if (document.body) { watch(); } else { document.addEventListener("DOMContentLoaded", watch); }
})();
