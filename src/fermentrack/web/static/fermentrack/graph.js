/* A beer's graph: beer, fridge and room temperature (with min–max bands), set points,
   heating/cooling as shading, annotations as markers, and the gravity of each sensor in the
   chamber on an axis of its unit (SG or °Plato) at the right, drawn with uPlot from
   /api/beers/<id>/graph. Zooming (drag, or two-finger spread) fetches finer data for the
   range; a double click or double tap goes back to the whole beer. While the beer is logging
   the graph refreshes every 30 s. Settings come from a json_script named by
   data-beer-graph. */
(function () {
  "use strict";

  const REFRESH_MS = 30000;
  const DOUBLE_TAP_MS = 350;
  const SHADE_ALPHA = 0.3;

  // uPlot series after x, in data order; the API's columns of the same names fill them.
  const LINES = [
    { key: "beer_temp", label: "Beer", width: 2 },
    { key: "fridge_temp", label: "Fridge", width: 1.5 },
    { key: "room_temp", label: "Room", width: 1 },
    { key: "beer_set", label: "Beer setting", width: 1.5, dash: [6, 4] },
    { key: "fridge_set", label: "Fridge setting", width: 1, dash: [6, 4] },
  ];
  const SHADES = [
    { key: "heating", label: "Heating" },
    { key: "cooling", label: "Cooling" },
  ];
  // The first gravity sensor takes the brewery's gravity colour, the others these.
  const GRAVITY_PALETTE = ["#2e7d32", "#6a1b9a", "#ef6c00", "#37474f"];
  const GRAVITY_UNITS = { sg: "SG", plato: "°P" };
  const BANDS = [
    { key: "beer_temp", min: "beer_temp_min", max: "beer_temp_max" },
    { key: "fridge_temp", min: "fridge_temp_min", max: "fridge_temp_max" },
  ];

  function withAlpha(colour, alpha) {
    let hex = String(colour || "#888888").replace("#", "");
    if (hex.length === 3) hex = hex.split("").map((c) => c + c).join("");
    const n = parseInt(hex, 16);
    if (Number.isNaN(n)) return colour;
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  }

  function setUp(figure) {
    const config = JSON.parse(document.getElementById(figure.dataset.beerGraph).textContent);
    const box = figure.querySelector(".graph");
    const status = figure.querySelector(".graph-status");
    const dutyLine = figure.querySelector(".graph-duty");
    const annotationText = figure.querySelector(".annotation-text");
    const colours = config.colours || {};
    let answer = null; // the last API answer shown
    let zoom = null; // {start, end} while zoomed in, null for the whole beer
    let request = 0; // answers to older requests are dropped
    let plot = null;
    let plotGravity = ""; // the gravity series the plot was made with

    window.addEventListener("resize", () => {
      if (plot) plot.setSize({ width: box.clientWidth, height: plot.height });
    });

    function unit() {
      return answer ? "°" + answer.temp_format : "";
    }

    function graphUrl(range, width) {
      const query = new URLSearchParams({ width: String(Math.max(10, Math.min(4000, width))) });
      if (range) {
        query.set("start", String(Math.floor(range.start)));
        query.set("end", String(Math.ceil(range.end)));
      }
      if (config.share) query.set("share", config.share);
      return `${config.url}?${query}`;
    }

    function gravitySeries(data) {
      return (data && data.gravity) || [];
    }

    function gravityKey(data) {
      return gravitySeries(data)
        .map((series) => `${series.sensor_id}:${series.unit}:${series.sensor}`)
        .join(",");
    }

    function gravityColour(i) {
      return i === 0 ? colours.gravity || "#95190c" : GRAVITY_PALETTE[(i - 1) % GRAVITY_PALETTE.length];
    }

    function gravityText(value, unit) {
      if (value == null) return "–";
      return unit === "plato" ? `${value.toFixed(1)} °P` : value.toFixed(3);
    }

    function columns(data) {
      const temperatures = [
        data.t,
        ...LINES.map((line) => data[line.key]),
        ...SHADES.map((shade) => data[shade.key].map((v) => (v == null ? null : v * 100))),
      ];
      const gravity = gravitySeries(data);
      if (!gravity.length) return temperatures;
      // Each gravity series has times of its own; uPlot.join aligns them (a time missing in
      // one table is undefined there and drawn across; a null stays a gap).
      return uPlot.join([temperatures, ...gravity.map((series) => [series.t, series.gravity])]);
    }

    async function load(range) {
      const mine = ++request;
      const width = plot ? plot.over.clientWidth : box.clientWidth;
      let data;
      try {
        const response = await fetch(graphUrl(range, Math.round(width)), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        data = await response.json();
        if (!response.ok) throw new Error(data.detail || response.statusText);
      } catch (error) {
        if (mine === request) status.textContent = `The graph could not be loaded: ${error.message}`;
        return;
      }
      if (mine !== request) return;
      answer = data;
      if (plot && gravityKey(data) !== plotGravity) {
        plot.destroy(); // a sensor joined or left the chamber: the series change
        plot = null;
      }
      if (!plot) {
        plot = makePlot();
        plotGravity = gravityKey(data);
      }
      plot.setData(columns(data), false);
      // The whole beer runs from its start to its end (or now), readings or not: a note
      // logged a moment ago sits at the right edge, not beyond the last reading.
      const shown = range || data;
      plot.setScale("x", { min: shown.start, max: shown.end });
      status.textContent = data.t.length ? "" : "Nothing logged in this stretch yet.";
      status.hidden = !status.textContent;
    }

    function zoomTo(start, end) {
      const first = config.start;
      const last = config.end || Math.floor(Date.now() / 1000);
      start = Math.max(first, start);
      end = Math.min(last, end);
      if (end - start < 60) return; // closer than a minute shows nothing new
      zoom = { start, end };
      plot.setScale("x", { min: start, max: end }); // at once, coarse; finer data follows
      load(zoom);
    }

    let lastReset = 0;
    function reset() {
      // A double tap may also arrive as the browser's own dblclick: one reset is enough.
      if (Date.now() - lastReset < 500) return;
      lastReset = Date.now();
      zoom = null;
      load(null);
    }

    // -- drawing: shading, bands and annotation markers --------------------------------------

    function xPos(u, value) {
      return u.valToPos(value, "x", true);
    }

    function drawShading(u) {
      if (!answer) return;
      const { ctx, bbox } = u;
      const t = answer.t;
      const step = answer.bucket_s || 60;
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      SHADES.forEach((shade, n) => {
        if (!u.series[1 + LINES.length + n].show) return;
        const shares = answer[shade.key];
        const colour = colours[shade.key] || "#999";
        // A row's state lasts until the next row (the API puts a row of nulls at every gap).
        // One rectangle per run of equal shares, on whole pixels: no hairline gaps or stripes.
        let i = 0;
        while (i < t.length) {
          const share = shares[i];
          let j = i + 1;
          while (j < t.length && shares[j] === share) j++;
          if (share) {
            const lastStep = j - 1 > 0 ? Math.max(step, t[j - 1] - t[j - 2]) : step;
            const end = j < t.length ? t[j] : t[j - 1] + lastStep;
            const left = Math.round(xPos(u, t[i]));
            const right = Math.round(xPos(u, end));
            ctx.fillStyle = withAlpha(colour, SHADE_ALPHA * share);
            ctx.fillRect(left, bbox.top, Math.max(1, right - left), bbox.height);
          }
          i = j;
        }
      });
      ctx.restore();
    }

    function drawBands(u) {
      if (!answer) return;
      const { ctx, bbox } = u;
      const t = answer.t;
      ctx.save();
      ctx.beginPath();
      ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
      ctx.clip();
      for (const band of BANDS) {
        const seriesIndex = 1 + LINES.findIndex((line) => line.key === band.key);
        if (!u.series[seriesIndex].show) continue;
        const low = answer[band.min];
        const high = answer[band.max];
        ctx.fillStyle = withAlpha(colours[band.key], 0.18);
        let run = [];
        const flush = () => {
          if (run.length > 1) {
            ctx.beginPath();
            run.forEach((i, k) => {
              const x = xPos(u, t[i]);
              const y = u.valToPos(high[i], "y", true);
              k ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
            });
            for (let k = run.length - 1; k >= 0; k--) {
              const i = run[k];
              ctx.lineTo(xPos(u, t[i]), u.valToPos(low[i], "y", true));
            }
            ctx.closePath();
            ctx.fill();
          }
          run = [];
        };
        for (let i = 0; i < t.length; i++) {
          if (low[i] == null || high[i] == null) flush();
          else run.push(i);
        }
        flush();
      }
      ctx.restore();
    }

    const formatTime = (ts) => window.fermentrackFormatTime(ts, config.time_zone);

    function showAnnotation(note) {
      // The brewer's own entries read as written; the machines' say who wrote them.
      const by = note.source === "person" ? "" : ` (${note.source})`;
      annotationText.textContent = `${formatTime(note.ts)}: ${note.text}${by}`;
      annotationText.hidden = false;
    }

    function placeMarkers(u) {
      let layer = u.over.querySelector(".annotations");
      if (!layer) {
        layer = document.createElement("div");
        layer.className = "annotations";
        u.over.appendChild(layer);
      }
      layer.replaceChildren();
      if (!answer) return;
      const min = u.scales.x.min;
      const max = u.scales.x.max;
      for (const note of answer.annotations) {
        if (note.ts < min || note.ts > max) continue;
        const marker = document.createElement("button");
        marker.type = "button";
        marker.className = `annotation-marker ${note.source}`;
        marker.style.left = `${u.valToPos(note.ts, "x")}px`;
        marker.title = `${formatTime(note.ts)}: ${note.text}`;
        marker.setAttribute("aria-label", `Note: ${note.text}`);
        marker.addEventListener("mouseenter", () => showAnnotation(note));
        marker.addEventListener("click", (event) => {
          event.stopPropagation();
          showAnnotation(note);
        });
        layer.appendChild(marker);
      }
    }

    function showDuty(u) {
      if (!answer || !answer.t.length) {
        dutyLine.textContent = "";
        return;
      }
      const min = u.scales.x.min;
      const max = u.scales.x.max;
      const totals = { heating: 0, cooling: 0 };
      let buckets = 0;
      answer.t.forEach((ts, i) => {
        if (ts < min || ts > max || answer.heating[i] == null) return;
        buckets += 1;
        totals.heating += answer.heating[i];
        totals.cooling += answer.cooling[i] || 0;
      });
      if (!buckets) {
        dutyLine.textContent = "";
        return;
      }
      const share = (total) => Math.round((100 * total) / buckets);
      dutyLine.textContent =
        `Heating ${share(totals.heating)} %, cooling ${share(totals.cooling)} % ` +
        "of the time shown.";
    }

    // -- the plot ----------------------------------------------------------------------------

    function degrees(_u, value) {
      return value == null ? "–" : `${value.toFixed(1)} ${unit()}`;
    }

    function makePlot() {
      const series = [
        { label: "Time", value: (_u, ts) => (ts == null ? "–" : formatTime(ts)) },
        ...LINES.map((line) => ({
          label: line.label,
          stroke: colours[line.key],
          width: line.width,
          dash: line.dash,
          spanGaps: false,
          points: { show: false },
          value: degrees,
        })),
        ...SHADES.map((shade) => ({
          label: shade.label,
          scale: "share",
          stroke: colours[shade.key],
          fill: withAlpha(colours[shade.key], SHADE_ALPHA),
          paths: () => null, // drawn as shading behind the lines instead
          points: { show: false },
          value: (_u, v) => (v == null ? "–" : `${Math.round(v)} %`),
        })),
        ...gravitySeries(answer).map((gravity, i) => ({
          label: `${gravity.sensor} (${GRAVITY_UNITS[gravity.unit] || gravity.unit})`,
          scale: gravity.unit,
          stroke: gravityColour(i),
          width: 2,
          spanGaps: false,
          points: { show: gravity.t.length < 100, size: 4 },
          value: (_u, v) => gravityText(v, gravity.unit),
        })),
      ];
      // A lone reading (or a flat line) gets some room instead of uPlot's 0 to 2.
      const gravityScales = {};
      for (const series of gravitySeries(answer)) {
        const least = series.unit === "plato" ? 0.5 : 0.002;
        gravityScales[series.unit] = {
          range: (_u, min, max) => {
            if (min == null || max == null) return [0, 1];
            const pad = Math.max(least, (max - min) * 0.1);
            return [min - pad, max + pad];
          },
        };
      }
      const gravityAxes = [...new Set(gravitySeries(answer).map((g) => g.unit))].map((scale) => ({
        scale,
        side: 1,
        label: GRAVITY_UNITS[scale] || scale,
        size: 55,
        grid: { show: false },
        values: (_u, ticks) => ticks.map((v) => (scale === "plato" ? v.toFixed(1) : v.toFixed(3))),
      }));
      const options = {
        width: box.clientWidth || 600,
        height: Math.max(260, Math.min(460, Math.round((box.clientWidth || 600) * 0.55))),
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), config.time_zone || "UTC"),
        series,
        scales: { x: { time: true }, share: { range: [0, 100] }, ...gravityScales },
        axes: [
          {},
          { label: unit(), values: (_u, ticks) => ticks.map((v) => v.toFixed(1)), size: 60 },
          ...gravityAxes,
        ],
        cursor: {
          drag: { x: true, y: false, setScale: false },
          bind: { dblclick: () => null },
        },
        hooks: {
          drawAxes: [drawShading, drawBands],
          draw: [placeMarkers, showDuty],
          setSelect: [
            (u) => {
              if (u.select.width < 5) return;
              const start = u.posToVal(u.select.left, "x");
              const end = u.posToVal(u.select.left + u.select.width, "x");
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              zoomTo(start, end);
            },
          ],
        },
      };
      const u = new uPlot(options, columns(answer), box);
      u.over.addEventListener("dblclick", reset);
      addTouch(u);
      return u;
    }

    // -- touch: two-finger spread zooms the time axis, a double tap resets ------------------

    function addTouch(u) {
      const over = u.over;
      let pinch = null; // while two fingers are down
      let gesture = null; // one touch from start to end: still a tap?
      let lastTap = 0;
      const spread = (touches) => Math.abs(touches[0].clientX - touches[1].clientX) || 1;
      over.addEventListener(
        "touchstart",
        (event) => {
          if (event.touches.length === 1) {
            const touch = event.touches[0];
            const onMarker = event.target.closest(".annotation-marker");
            gesture = { tap: !onMarker, x: touch.clientX, y: touch.clientY, at: Date.now() };
            return;
          }
          if (gesture) gesture.tap = false;
          if (event.touches.length !== 2) return;
          event.preventDefault();
          const rect = over.getBoundingClientRect();
          const middle = (event.touches[0].clientX + event.touches[1].clientX) / 2 - rect.left;
          pinch = {
            spread: spread(event.touches),
            centre: u.posToVal(middle, "x"),
            min: u.scales.x.min,
            max: u.scales.x.max,
          };
        },
        { passive: false },
      );
      over.addEventListener(
        "touchmove",
        (event) => {
          if (gesture && event.touches.length === 1) {
            const touch = event.touches[0];
            if (Math.hypot(touch.clientX - gesture.x, touch.clientY - gesture.y) > 10) {
              gesture.tap = false;
            }
          }
          if (!pinch || event.touches.length !== 2) return;
          event.preventDefault();
          const factor = pinch.spread / spread(event.touches);
          const min = pinch.centre - (pinch.centre - pinch.min) * factor;
          const max = pinch.centre + (pinch.max - pinch.centre) * factor;
          const first = config.start;
          const last = config.end || Math.floor(Date.now() / 1000);
          u.setScale("x", { min: Math.max(first, min), max: Math.min(last, max) });
        },
        { passive: false },
      );
      over.addEventListener("touchend", (event) => {
        if (pinch && event.touches.length < 2) {
          pinch = null;
          zoomTo(u.scales.x.min, u.scales.x.max);
        }
        if (event.touches.length) return;
        const tapped = gesture && gesture.tap && Date.now() - gesture.at < 300;
        gesture = null;
        if (!tapped) {
          lastTap = 0;
          return;
        }
        const now = Date.now();
        if (now - lastTap < DOUBLE_TAP_MS) {
          event.preventDefault();
          lastTap = 0;
          reset();
        } else {
          lastTap = now;
        }
      });
    }

    load(null);
    if (config.active) {
      setInterval(() => {
        if (!document.hidden && !zoom) load(null);
      }, REFRESH_MS);
    }
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-beer-graph]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
