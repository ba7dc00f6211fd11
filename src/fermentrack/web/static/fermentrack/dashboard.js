// Dashboard sparklines: each card's beer and fridge temperature over the last 24 hours, drawn
// with uPlot from the graph API (/api/devices/<name>/graph), redrawn every 5 minutes.
(function () {
  "use strict";

  const SPAN_S = 24 * 3600;
  const WIDTH_PX = 300; // buckets the API returns at most
  const REDRAW_MS = 5 * 60 * 1000;

  function colours() {
    const element = document.getElementById("graph-colours");
    try {
      return element ? JSON.parse(element.textContent) : {};
    } catch (error) {
      return {};
    }
  }

  function say(box, text) {
    box.replaceChildren();
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = text;
    box.appendChild(note);
  }

  async function draw(box, palette) {
    const end = Math.floor(Date.now() / 1000);
    const start = end - SPAN_S;
    const url = `${box.dataset.graphUrl}?start=${start}&end=${end}&width=${WIDTH_PX}`;
    let data;
    try {
      const response = await fetch(url, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      data = await response.json();
    } catch (error) {
      say(box, "The graph could not be loaded.");
      return;
    }
    if (!data.t || data.t.length === 0) {
      say(box, "No readings in the last 24 hours.");
      return;
    }
    if (typeof uPlot === "undefined") {
      say(box, "The graph library is missing.");
      return;
    }
    const options = {
      width: box.clientWidth || WIDTH_PX,
      height: box.clientHeight || 80,
      legend: { show: false },
      cursor: { show: false },
      select: { show: false },
      scales: { x: { time: true } },
      axes: [{ show: false }, { show: false, size: 0 }],
      series: [
        {},
        { label: "Beer", stroke: palette.beer_temp || "#e3b505", width: 2 },
        { label: "Fridge", stroke: palette.fridge_temp || "#1f6fb2", width: 1 },
        { label: "Beer setting", stroke: palette.beer_set || "#8a6d00", width: 1, dash: [4, 3] },
      ],
    };
    box.replaceChildren();
    new uPlot(options, [data.t, data.beer_temp, data.fridge_temp, data.beer_set], box);
  }

  function drawAll() {
    const palette = colours();
    document.querySelectorAll(".sparkline[data-graph-url]").forEach((box) => draw(box, palette));
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawAll();
    setInterval(drawAll, REDRAW_MS);
  });
})();
