/* The graphs' one way of writing a moment: a Unix time in the brewery's time zone, as the
   browser's language writes dates ("24 Nov 2026, 14:05"); ISO when the zone is unknown. */
window.fermentrackFormatTime = function (ts, timeZone) {
  "use strict";
  try {
    return new Date(ts * 1000).toLocaleString([], {
      timeZone: timeZone,
      dateStyle: "medium",
      timeStyle: "short",
    });
  } catch (_error) {
    return new Date(ts * 1000).toISOString();
  }
};
