/* A gravity sensor's graph: gravity (left axis, in the sensor's unit) and temperature (right
   axis) over the last week, drawn with uPlot from /api/gravity/sensors/<id>/graph. Settings
   come from a json_script named by data-gravity-graph. */
(function () {
  "use strict";

  const REFRESH_MS = 60000;

  function setUp(figure) {
    const config = JSON.parse(document.getElementById(figure.dataset.gravityGraph).textContent);
    const box = figure.querySelector(".graph");
    const status = figure.querySelector(".graph-status");
    const colours = config.colours || {};
    const plato = config.unit === "plato";
    let plot = null;
    let shown = { start: 0, end: 1 }; // the range of the answer on the graph

    function roomAround(min, max, least) {
      if (min == null || max == null) return [0, 1];
      const pad = Math.max(least, (max - min) * 0.1);
      return [min - pad, max + pad];
    }

    const formatTime = (ts) => window.fermentrackFormatTime(ts, config.time_zone);

    function gravityText(value) {
      if (value == null) return "–";
      return plato ? `${value.toFixed(1)} °P` : value.toFixed(3);
    }

    function makePlot(data) {
      const width = box.clientWidth || 600;
      return new uPlot(
        {
          width,
          height: Math.max(240, Math.min(420, Math.round(width * 0.5))),
          tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), config.time_zone || "UTC"),
          series: [
            { label: "Time", value: (_u, ts) => (ts == null ? "–" : formatTime(ts)) },
            {
              label: "Gravity",
              scale: "gravity",
              stroke: colours.gravity || "#95190c",
              width: 2,
              spanGaps: false,
              points: { show: data[0].length < 200, size: 4 },
              value: (_u, v) => gravityText(v),
            },
            {
              label: "Temperature",
              scale: "temp",
              stroke: colours.room_temp || "#8b2a6b",
              width: 1,
              spanGaps: false,
              points: { show: false },
              value: (_u, v) => (v == null ? "–" : `${v.toFixed(1)} °${config.temp_format}`),
            },
          ],
          scales: {
            // The whole week, even with one reading in it; a lone value gets some room.
            x: { time: true, range: () => [shown.start, shown.end] },
            gravity: { range: (_u, min, max) => roomAround(min, max, plato ? 0.5 : 0.002) },
            temp: { range: (_u, min, max) => roomAround(min, max, 0.5) },
          },
          axes: [
            {},
            {
              scale: "gravity",
              label: config.unit_label,
              size: 60,
              values: (_u, ticks) => ticks.map((v) => (plato ? v.toFixed(1) : v.toFixed(3))),
            },
            {
              scale: "temp",
              side: 1,
              label: `°${config.temp_format}`,
              size: 50,
              grid: { show: false },
              values: (_u, ticks) => ticks.map((v) => v.toFixed(1)),
            },
          ],
        },
        data,
        box,
      );
    }

    async function load() {
      const width = Math.max(10, Math.min(4000, Math.round(box.clientWidth || 600)));
      let answer;
      try {
        const response = await fetch(`${config.url}?width=${width}`, {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        answer = await response.json();
        if (!response.ok) throw new Error(answer.detail || response.statusText);
      } catch (error) {
        status.textContent = `The graph could not be loaded: ${error.message}`;
        return;
      }
      const data = [answer.t, answer.gravity, answer.temperature];
      shown = { start: answer.start, end: answer.end };
      if (!plot) {
        plot = makePlot(data);
        window.addEventListener("resize", () => plot.setSize({ width: box.clientWidth, height: plot.height }));
      } else {
        plot.setData(data);
      }
      status.textContent = answer.t.length ? "" : "No readings in the last week.";
      status.hidden = !status.textContent;
    }

    load();
    setInterval(() => {
      if (!document.hidden) load();
    }, REFRESH_MS);
  }

  function start() {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-gravity-graph]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
