/* Fermentation-profile graphs: temperature against days from the start, drawn with uPlot.
   On a profile's page the points come from a json_script; on the edit page the graph follows
   the points table as it is typed (the server's preview, swapped in by htmx, gives the summary
   and the problems). A point's hold (keep its temperature until the gravity says so) is drawn
   as a flat stretch as long as its time limit, marked as a second, dashed series. Also adds
   rows to the points table and shows each hold's fields for the condition chosen. */
(function () {
  "use strict";

  const DAY = 86400;
  const UNIT_SECONDS = { y: 365 * DAY, w: 7 * DAY, d: DAY, h: 3600, m: 60, s: 1 };
  const NUMBER = "(\\d+(?:\\.\\d*)?|\\.\\d+)";
  const PLAIN_DAYS = new RegExp(`^${NUMBER}$`);
  const PART = new RegExp(`^\\s*${NUMBER}\\s*([ywdhms])`, "i");
  const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

  // The same grammar as parse_offset in fermentrack/brewpi/profile_schedule.py; null if unread.
  function parseOffset(text) {
    let rest = text.trim().toLowerCase();
    if (!rest) return null;
    const plain = rest.match(PLAIN_DAYS);
    if (plain) return Math.round(parseFloat(plain[1]) * DAY);
    let total = 0;
    const seen = new Set();
    while (rest) {
      const part = rest.match(PART);
      if (!part || seen.has(part[2])) return null;
      seen.add(part[2]);
      total += parseFloat(part[1]) * UNIT_SECONDS[part[2]];
      rest = rest.slice(part[0].length).trim();
    }
    return Math.round(total);
  }

  // A date and time as seconds; only differences between them are used, so no zone is needed.
  function parseDate(text) {
    const m = text.trim().match(DATE);
    if (!m) return null;
    const [, y, mo, d, h = "0", mi = "0", s = "0"] = m;
    return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // The same form as format_offset in profile_schedule.py: "3d 12h", "0h".
  function formatOffset(seconds) {
    if (!seconds) return "0h";
    const parts = [];
    for (const [unit, size] of [["d", DAY], ["h", 3600], ["m", 60], ["s", 1]]) {
      const count = Math.floor(seconds / size);
      seconds -= count * size;
      if (count) parts.push(`${count}${unit}`);
    }
    return parts.join(" ");
  }

  function formatDate(seconds) {
    const d = new Date(seconds * 1000);
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const secs = d.getUTCSeconds() ? `:${pad(d.getUTCSeconds())}` : "";
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${time}${secs}`;
  }

  function today() {
    const now = new Date();
    return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} 00:00`;
  }

  // Switching between offsets and dates rewrites the times the table already holds, counting
  // from the start field (today at midnight when it is empty).
  function convertTimes(form, byDate) {
    const startField = form.querySelector("input[name=start]");
    if (!startField) return;
    if (!startField.value.trim()) startField.value = today();
    const start = parseDate(startField.value);
    if (start == null) return;
    form.querySelectorAll(".point-when").forEach((input) => {
      if (byDate) {
        const offset = parseOffset(input.value);
        if (offset != null) input.value = formatDate(start + offset);
      } else {
        const moment = parseDate(input.value);
        if (moment != null && moment >= start) input.value = formatOffset(moment - start);
      }
    });
  }

  function parseTemperature(text) {
    const cleaned = text.trim().replace(",", ".");
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(cleaned)) return null;
    return parseFloat(cleaned);
  }

  // The hold row under a point row: its time limit in seconds, or null for no hold.
  function readHold(row) {
    const holdRow = row.nextElementSibling;
    if (!holdRow || !holdRow.classList.contains("hold-row")) return null;
    const until = holdRow.querySelector(".hold-until");
    const max = holdRow.querySelector(".hold-max");
    if (!until || !until.value || !max) return null;
    const seconds = parseOffset(max.value);
    return seconds ? seconds : null;
  }

  function readTable(form) {
    const entry = form.querySelector("input[name=entry]:checked");
    const byDate = entry && entry.value === "dates";
    const startField = form.querySelector("input[name=start]");
    let start = byDate && startField && startField.value.trim() ? parseDate(startField.value) : null;
    const points = [];
    form.querySelectorAll("tr.point-row").forEach((row) => {
      const when = row.querySelector(".point-when");
      const temp = row.querySelector(".point-temperature");
      if (!when || !temp) return;
      const temperature = parseTemperature(temp.value);
      let offset = null;
      if (byDate) {
        const moment = parseDate(when.value);
        if (moment != null) {
          if (start == null) start = moment;
          offset = moment - start;
        }
      } else {
        offset = parseOffset(when.value);
      }
      if (offset != null && offset >= 0 && temperature != null) {
        points.push([offset, temperature, readHold(row)]);
      }
    });
    return points.sort((a, b) => a[0] - b[0]);
  }

  // Points [offset, temperature, hold seconds or null] as uPlot columns: days, the setting,
  // and the holds (null outside them). Each hold lasts its time limit; later points move on.
  function columns(points) {
    if (!points.length) return [[], [], []];
    const days = [];
    const temps = [];
    const held = [];
    let shift = 0;
    for (const [offset, temperature, hold] of points) {
      days.push((offset + shift) / DAY);
      temps.push(temperature);
      held.push(hold ? temperature : null);
      if (hold) {
        shift += hold;
        days.push((offset + shift) / DAY);
        temps.push(temperature);
        held.push(temperature);
      }
    }
    // Show the hold after the last point: a tail a fifth as long as the profile (or a day).
    const last = days[days.length - 1];
    days.push(last + Math.max(1, last / 5));
    temps.push(temps[temps.length - 1]);
    held.push(null);
    return [days, temps, held];
  }

  // The points of a json_script: [offset, temperature] with holds given by point index.
  function givenPoints(settings) {
    const holds = settings.holds || {};
    return settings.points.map((p, index) => [p[0], p[1], holds[index] || null]);
  }

  function makePlot(box, settings) {
    const width = box.clientWidth || 600;
    const unit = () => `°${settings.unit}`;
    return new uPlot(
      {
        width,
        height: Math.max(200, Math.min(320, Math.round(width * 0.45))),
        scales: { x: { time: false } },
        series: [
          { label: "Day", value: (_u, v) => (v == null ? "–" : `day ${v.toFixed(2)}`) },
          {
            label: "Beer setting",
            stroke: settings.colour || "#8a6d00",
            width: 2,
            points: { show: true, size: 6 },
            value: (_u, v) => (v == null ? "–" : `${v.toFixed(1)} ${unit()}`),
          },
          {
            label: "Hold for gravity (at most)",
            stroke: settings.colour || "#8a6d00",
            width: 5,
            dash: [6, 4],
            spanGaps: false,
            points: { show: false },
            value: (_u, v) => (v == null ? "–" : `${v.toFixed(1)} ${unit()}`),
          },
        ],
        axes: [
          { values: (_u, ticks) => ticks.map((v) => `${+v.toFixed(2)} d`) },
          { values: (_u, ticks) => ticks.map((v) => `${v.toFixed(1)} ${unit()}`), size: 70 },
        ],
        cursor: { drag: { x: false, y: false } },
      },
      columns(givenPoints(settings)),
      box,
    );
  }

  function setUpGraph(box) {
    const settings = JSON.parse(document.getElementById(box.dataset.profileGraph).textContent);
    const plot = makePlot(box, settings);
    window.addEventListener("resize", () => plot.setSize({ width: box.clientWidth, height: plot.height }));
    const form = box.dataset.profileTable && document.getElementById(box.dataset.profileTable);
    if (!form) return;
    const redraw = () => {
      const unitField = form.querySelector("[name=temp_format]");
      if (unitField) settings.unit = unitField.value;
      plot.setData(columns(readTable(form)));
    };
    form.addEventListener("input", redraw);
    form.addEventListener("change", redraw);
    redraw();
  }

  // -- the points table: add rows, show the start field only for dates ------------------------

  function setUpTable(form) {
    const button = form.querySelector("#add-point");
    const template = form.querySelector("#point-row-template");
    const rows = form.querySelector("#point-rows");
    const total = form.querySelector("input[name=points-TOTAL_FORMS]");
    if (button && template && rows && total) {
      button.hidden = false;
      button.addEventListener("click", () => {
        const index = parseInt(total.value, 10);
        const added = Array.from(template.content.children, (child) => {
          const row = child.cloneNode(true);
          row.innerHTML = row.innerHTML.replaceAll("__prefix__", String(index));
          rows.appendChild(row);
          return row;
        });
        added[0].querySelector(".row-number").textContent = String(index + 1);
        total.value = String(index + 1);
        followEntry();
        followHolds();
        added[0].querySelector(".point-when").focus();
      });
    }
    // Each hold row shows the fields of the condition chosen (all of them without script).
    function followHolds() {
      form.querySelectorAll("tr.hold-row").forEach((row) => {
        const until = row.querySelector(".hold-until");
        const kind = until ? until.value : "";
        row.querySelectorAll("[data-hold-for]").forEach((field) => {
          const wanted = field.dataset.holdFor;
          field.hidden = !kind || (wanted !== "any" && wanted !== kind);
        });
      });
    }
    form.addEventListener("change", (event) => {
      if (event.target.classList && event.target.classList.contains("hold-until")) followHolds();
    });
    followHolds();
    const startField = form.querySelector(".start-field");
    function followEntry() {
      const entry = form.querySelector("input[name=entry]:checked");
      const byDate = entry && entry.value === "dates";
      if (startField) startField.hidden = !byDate;
      form.querySelectorAll(".point-when").forEach((input) => {
        input.placeholder = byDate ? "2025-05-01 18:00" : "3d 12h";
      });
    }
    form.querySelectorAll("input[name=entry]").forEach((radio) => {
      radio.addEventListener("change", () => {
        convertTimes(form, radio.value === "dates");
        followEntry();
      });
    });
    followEntry();
  }

  function start() {
    document.querySelectorAll("form.profile-editor").forEach(setUpTable);
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-profile-graph]").forEach(setUpGraph);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
