/* Conveyor console: a few enhancements over plain HTML forms and links.
   - a running record's page follows its server-sent events (steps, results, log lines);
   - forms with data-confirm ask first;
   - after the wizard swaps a step in (htmx), focus goes to the error or the step's heading. */
(function () {
  "use strict";

  function focusWithin(root) {
    var target = root.querySelector("[data-focus-first]") || root.querySelector("[data-focus-step]");
    if (target) {
      target.focus();
    }
  }

  function followRecord(live) {
    var url = live.getAttribute("data-live-url");
    if (!url || !window.EventSource) {
      return;
    }
    var logs = document.getElementById("record-logs");
    var announcer = document.getElementById("record-announcer");
    var source = new EventSource(url);
    source.addEventListener("record", function (event) {
      var focused = document.activeElement && live.contains(document.activeElement) ? document.activeElement.id : null;
      live.innerHTML = event.data;
      if (focused && document.getElementById(focused)) {
        document.getElementById(focused).focus();
      }
      var state = live.querySelector("[data-status]");
      if (state && announcer) {
        var result = state.getAttribute("data-result");
        announcer.textContent = "Record " + state.getAttribute("data-status") + (result ? " / " + result : "");
      }
    });
    source.addEventListener("log", function (event) {
      if (!logs) {
        return;
      }
      var line = JSON.parse(event.data);
      var atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
      var row = document.createElement("span");
      row.className = "line";
      var stage = document.createElement("span");
      stage.className = "stage";
      stage.textContent = line.node + (line.stage !== line.node ? "/" + line.stage : "") + " " + line.line;
      row.appendChild(stage);
      row.appendChild(document.createTextNode(" " + line.text));
      logs.appendChild(row);
      logs.appendChild(document.createTextNode("\n"));
      var empty = document.getElementById("no-logs");
      if (empty) {
        empty.remove();
      }
      if (atBottom) {
        logs.scrollTop = logs.scrollHeight;
      }
    });
    source.addEventListener("end", function () {
      source.close();
      live.removeAttribute("data-live-url");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // After htmx swapped a form's answer in: focus its error, else the wizard's step heading.
  document.addEventListener("htmx:afterSettle", function () {
    focusWithin(document);
  });

  function start() {
    var live = document.getElementById("record-live");
    if (live) {
      followRecord(live);
    }
    var summary = document.querySelector("[data-focus-first]");
    if (summary) {
      summary.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
