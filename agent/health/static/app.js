// vigil status page: reads /events (Server-Sent Events, one JSON status
// each) or, when the stream is refused, polls /status.json; draws the
// score against the threshold over the last two minutes on a canvas.
// Every text from the agent is set with textContent, never as HTML.
"use strict";

(function () {
  var WINDOW_MS = 120 * 1000;
  var history = []; // {t: ms (server clock), score: number|null, threshold: number|null}
  var lastUpdate = 0; // browser clock of the last status received
  var latest = null;

  function $(id) { return document.getElementById(id); }
  function text(id, s) { var e = $(id); if (e.textContent !== s) e.textContent = s; }

  function num(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (v === 0) return "0";
    var a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  function count(v) { return v === null || v === undefined ? "–" : String(v); }
  function age(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    if (s < 10) return s.toFixed(1) + " s";
    if (s < 120) return Math.round(s) + " s";
    if (s < 7200) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min";
  }
  function flag(id, ok, yes, no) { var e = $(id); e.dataset.ok = String(ok); text(id, ok ? yes : no); }

  function render(st) {
    latest = st;
    lastUpdate = Date.now();
    var t = Date.parse(st.time);
    history.push({ t: t, score: st.score, threshold: st.threshold, above: st.alarm_above, below: st.normal_at });
    while (history.length && history[0].t < t - WINDOW_MS) history.shift();

    text("name", st.name || "");
    var state = $("state");
    state.dataset.state = st.state;
    text("state", st.state);
    document.title = "vigil " + (st.name ? st.name + " " : "") + "· " + st.state;

    text("score", num(st.score));
    text("threshold", num(st.threshold));
    text("points", String(history.length));
    var chart = $("chart");
    chart.dataset.points = String(history.length);
    chart.dataset.last = st.score === null ? "" : String(st.score);
    draw();

    renderChannels(st.channels || []);

    flag("healthy", st.healthy, "healthy", "not healthy");
    var ul = $("problems");
    ul.replaceChildren();
    (st.problems || []).forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p;
      ul.appendChild(li);
    });
    text("samples", count(st.samples));
    text("faults", count(st.faults));
    text("stales", count(st.stales));
    text("last-sample", st.last_sample_age_s === null ? "none yet" :
      age(st.last_sample_age_s) + " ago (stale after " + age(st.stale_after_s) + ")");

    var m = st.model;
    text("model-id", m.loaded ? m.id : "no model loaded");
    text("model-version", m.loaded ? String(m.version) : "–");
    text("model-signer", m.loaded ? (m.signer || "unsigned") : "–");
    text("model-threshold", num(st.threshold));
    var kn = m.n ? "anomaly after " + m.k + " of the last " + m.n + " scores" : "–";
    // With hysteresis the decision has its own levels: say them.
    if (m.n && st.alarm_above !== null && st.normal_at !== null &&
        (st.alarm_above !== st.threshold || st.normal_at !== st.threshold)) {
      kn += " above " + num(st.alarm_above) + ", normal again once " + m.k + " are at or below " + num(st.normal_at);
    }
    text("model-kn", kn);

    var o = st.outbox;
    text("outbox-pending", count(o.pending));
    text("outbox-alerts", count(o.pending_alerts));
    text("outbox-oldest", o.pending ? age(o.oldest_s) : "–");
    flag("outbox-durable", o.durable, "durable", "NOT durable" + (o.error ? ": " + o.error : ""));

    var b = st.broker;
    flag("broker-connected", b.connected, "connected", "disconnected");
    text("broker-url", b.url || "–");
    text("broker-error", b.last_error || "none");
    text("broker-connects", count(b.connects));
    text("broker-failures", count(b.failures));
    text("broker-sent", count(b.sent));

    renderSources(st.sources || []);
    text("version", st.version || "–");
    text("updated", new Date(t).toLocaleTimeString());
  }

  function renderChannels(chs) {
    var body = $("channels").tBodies[0];
    var top = -1, topShare = -1;
    chs.forEach(function (c, i) { if (c.share !== null && c.share > topShare) { topShare = c.share; top = i; } });
    while (body.rows.length > chs.length) body.deleteRow(-1);
    chs.forEach(function (c, i) {
      var row = body.rows[i];
      if (!row) {
        row = body.insertRow(-1);
        row.insertCell(-1);
        row.insertCell(-1).className = "num";
        var cell = row.insertCell(-1);
        cell.className = "share";
        var bar = document.createElement("div");
        bar.className = "bar";
        bar.appendChild(document.createElement("div"));
        cell.appendChild(bar);
        cell.appendChild(document.createElement("span"));
      }
      if (row.cells[0].textContent !== c.name) row.cells[0].textContent = c.name;
      row.cells[1].textContent = num(c.value);
      var share = c.share === null ? 0 : Math.max(0, Math.min(1, c.share));
      var barEl = row.cells[2].firstChild;
      barEl.className = i === top && latest.state === "anomaly" ? "bar top" : "bar";
      barEl.firstChild.style.width = (share * 100).toFixed(1) + "%";
      row.cells[2].lastChild.textContent = c.share === null ? "–" : (c.share * 100).toFixed(1) + " %";
    });
  }

  function renderSources(srcs) {
    var body = $("sources").tBodies[0];
    body.replaceChildren();
    srcs.forEach(function (s) {
      var slaves = s.modbus && s.modbus.length ? s.modbus : [null];
      slaves.forEach(function (sl, j) {
        var row = body.insertRow(-1);
        var cells = [j === 0 ? s.name : "", sl ? String(sl.slave) : "–", j === 0 ? count(s.read_errors) : "",
          sl ? count(sl.requests) : "", sl ? count(sl.timeouts) : "", sl ? count(sl.crc_errors) : "", sl ? count(sl.exceptions) : ""];
        cells.forEach(function (v, k) {
          var td = row.insertCell(-1);
          if (k >= 2) td.className = "num";
          td.textContent = v;
        });
      });
    });
  }

  // draw plots history on the canvas: time on x (the last two minutes,
  // ending at the newest status), score on y from 0, the threshold dashed.
  function draw() {
    var c = $("chart");
    var dpr = window.devicePixelRatio || 1;
    var w = c.clientWidth || 720, h = c.clientHeight || 200;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    var g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    var css = getComputedStyle(document.documentElement);
    var colScore = css.getPropertyValue("--score").trim() || "#1565c0";
    var colThr = css.getPropertyValue("--threshold").trim() || "#c62828";
    var left = 48, right = 8, top = 8, bottom = 20;
    var pw = w - left - right, ph = h - top - bottom;
    if (!history.length) return;
    var tEnd = history[history.length - 1].t, tStart = tEnd - WINDOW_MS;
    var ymax = 0;
    history.forEach(function (p) {
      if (p.score !== null) ymax = Math.max(ymax, p.score);
      if (p.threshold !== null) ymax = Math.max(ymax, p.threshold * 1.5);
      if (p.above !== null && p.above !== undefined) ymax = Math.max(ymax, p.above * 1.1);
    });
    if (!(ymax > 0)) ymax = 1;
    var step = niceStep(ymax / 4);
    ymax = Math.ceil(ymax * 1.02 / step) * step;
    function X(t) { return left + (t - tStart) / WINDOW_MS * pw; }
    function Y(v) { return top + ph - Math.min(v, ymax) / ymax * ph; }

    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#66707a";
    g.strokeStyle = "#e3e6ea";
    g.lineWidth = 1;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (var v = 0; v <= ymax * 1.0001; v += step) {
      var y = Math.round(Y(v)) + 0.5;
      g.beginPath(); g.moveTo(left, y); g.lineTo(left + pw, y); g.stroke();
      g.fillText(num(v), left - 4, y);
    }
    g.textAlign = "center";
    g.textBaseline = "top";
    for (var s = 0; s <= 120; s += 30) {
      var x = X(tStart + s * 1000);
      g.fillText(s === 120 ? "now" : "−" + (120 - s) + " s", Math.min(Math.max(x, left + 12), left + pw - 12), top + ph + 4);
    }

    // The threshold in force, dashed, across the whole chart.
    var thr = history[history.length - 1].threshold;
    if (thr !== null) {
      g.setLineDash([6, 4]);
      g.strokeStyle = colThr;
      g.lineWidth = 1.5;
      g.beginPath(); g.moveTo(left, Y(thr)); g.lineTo(left + pw, Y(thr)); g.stroke();
      // The hysteresis' levels, where they differ from it, dotted.
      var last = history[history.length - 1];
      g.setLineDash([2, 3]);
      g.lineWidth = 1;
      [last.above, last.below].forEach(function (v) {
        if (v !== null && v !== undefined && v !== thr) {
          g.beginPath(); g.moveTo(left, Y(v)); g.lineTo(left + pw, Y(v)); g.stroke();
        }
      });
      g.setLineDash([]);
    }
    g.strokeStyle = colScore;
    g.lineWidth = 2;
    line(g, X, Y, "score");
    // Points above their threshold, in red.
    g.fillStyle = colThr;
    history.forEach(function (p) {
      if (p.score !== null && p.threshold !== null && p.score > p.threshold) {
        g.beginPath(); g.arc(X(p.t), Y(p.score), 2.5, 0, 2 * Math.PI); g.fill();
      }
    });
  }

  // niceStep rounds a raw axis step up to 1, 2, 2.5 or 5 times a power of ten.
  function niceStep(raw) {
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = [1, 2, 2.5, 5, 10].find(function (k) { return k * p >= raw; });
    return m * p;
  }

  // line strokes one field of history, broken where it is null.
  function line(g, X, Y, field) {
    var on = false;
    g.beginPath();
    history.forEach(function (p) {
      var v = p[field];
      if (v === null) { on = false; return; }
      if (on) g.lineTo(X(p.t), Y(v)); else g.moveTo(X(p.t), Y(v));
      on = true;
    });
    g.stroke();
  }

  function conn(state, label) {
    var e = $("conn");
    e.dataset.conn = state;
    text("conn", label);
  }

  var polling = null;
  function poll() {
    if (polling) return;
    conn("polling", "polling");
    polling = setInterval(function () {
      fetch("/status.json", { cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (st) { render(st); conn("polling", "polling every 2 s"); })
        .catch(function () { conn("lost", "agent unreachable"); });
    }, 2000);
  }

  function stream() {
    if (!window.EventSource) { poll(); return; }
    var es = new EventSource("/events");
    es.onopen = function () { conn("live", "live"); };
    es.onmessage = function (ev) {
      try { render(JSON.parse(ev.data)); conn("live", "live"); } catch (e) { conn("lost", "bad data: " + e.message); }
    };
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) { poll(); return; } // refused, e.g. too many pages open
      conn("lost", "reconnecting…");
    };
  }

  // A stream that goes quiet for long is shown as such.
  setInterval(function () {
    if (lastUpdate && Date.now() - lastUpdate > 20000 && !polling) {
      conn("lost", "no update for " + Math.round((Date.now() - lastUpdate) / 1000) + " s");
    }
  }, 5000);
  window.addEventListener("resize", draw);
  stream();
})();
