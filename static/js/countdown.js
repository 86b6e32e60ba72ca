// Recounts "time left" each minute while a page stays open, in the hub's working minutes.
// The server words every countdown correctly when it renders the page; this only counts on
// from there, with what the page gives it (enquiries/selectors.py `hub_hours`):
//
// [data-countdown-clock]  data-counted-at  the server's instant, ms since the epoch
//                         data-open        opening periods, "start-end ..." in epoch minutes
//                         data-known-until past this epoch minute it stops recounting
//                         data-zone        the hub's time zone, for "the hub opens Monday 09:00"
//   [data-countdown]      data-remaining   minutes left when counted (negative once overdue)
//                         data-continuous  its clock never stops
//                         data-at-risk     the minutes left at which it turns at risk
//     [data-countdown-tag] the Breached / At risk tag beside it, if any
//   [data-countdown-paused] "Clock paused: ..." shown while the hub is closed
//
// Time is counted from the browser's own clock since the page loaded, added to the server's
// instant, so a browser whose clock is wrong still counts right.

const MINUTE = 60000;
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];

function duration(minutes) {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return hours ? `${hours} h ${String(rest).padStart(2, "0")} min` : `${rest} min`;
}

export function wording(remaining) {
  if (remaining > 0) return `${duration(remaining)} left`;
  if (remaining === 0) return "Overdue";
  return `Overdue by ${duration(-remaining)}`;
}

function workingMinutes(periods, from, to) {
  let total = 0;
  for (const [start, end] of periods) {
    total += Math.max(0, Math.min(end, to) - Math.max(start, from));
  }
  return total;
}

// The wall-clock date and time of an epoch minute in the hub's zone.
function wallTime(minute, zone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, year: "numeric", month: "numeric", day: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  for (const { type, value } of format.formatToParts(new Date(minute * MINUTE))) {
    parts[type] = Number(value);
  }
  const day = new Date(Date.UTC(parts.year, parts.month - 1, parts.day));
  return { day, time: `${String(parts.hour).padStart(2, "0")}:${String(parts.minute).padStart(2, "0")}` };
}

function opensWording(opening, now, zone) {
  const open = wallTime(opening, zone);
  const days = Math.round((open.day - wallTime(now, zone).day) / (1440 * MINUTE));
  if (days === 0) return `today ${open.time}`;
  if (days === 1) return `tomorrow ${open.time}`;
  const weekday = WEEKDAYS[open.day.getUTCDay()];
  if (days < 7) return `${weekday} ${open.time}`;
  return `${weekday} ${open.day.getUTCDate()} ${MONTHS[open.day.getUTCMonth()]} ${open.time}`;
}

function recount(clock, loadedAt) {
  const countedAt = Number(clock.dataset.countedAt);
  const counted = Math.floor(countedAt / MINUTE);
  const now = Math.floor((countedAt + Date.now() - loadedAt) / MINUTE);
  if (now > Number(clock.dataset.knownUntil)) return false;
  const periods = (clock.dataset.open || "").split(" ").filter(Boolean)
    .map((period) => period.split("-").map(Number));
  const open = periods.some(([start, end]) => start <= now && now < end);

  for (const countdown of clock.querySelectorAll("[data-countdown]")) {
    const elapsed = "continuous" in countdown.dataset
      ? now - counted : workingMinutes(periods, counted, now);
    const remaining = Number(countdown.dataset.remaining) - elapsed;
    countdown.querySelector("[data-countdown-text]").textContent = wording(remaining);
    const tag = countdown.querySelector("[data-countdown-tag]");
    if (tag) {
      const atRisk = remaining <= Number(countdown.dataset.atRisk);
      tag.hidden = remaining > 0 && !atRisk;
      tag.textContent = remaining <= 0 ? "Breached" : "At risk";
      tag.classList.toggle("govuk-tag--red", remaining <= 0);
      tag.classList.toggle("govuk-tag--orange", remaining > 0);
    }
  }
  const paused = clock.querySelector("[data-countdown-paused]");
  if (paused) {
    const opening = periods.find(([start]) => start > now);
    paused.hidden = open;
    if (!open) {
      paused.textContent = opening
        ? `Clock paused: the hub opens ${opensWording(opening[0], now, clock.dataset.zone)}`
        : "Clock paused";
    }
  }
  return true;
}

export function startCountdowns(root = document) {
  const clocks = root.querySelectorAll("[data-countdown-clock]");
  if (!clocks.length) return;
  const loadedAt = Date.now();
  const tick = () => {
    let counting = false;
    for (const clock of clocks) counting = recount(clock, loadedAt) || counting;
    if (!counting) return;
    // At the start of the server's next minute, when the server would show a new count.
    const serverNow = Number(clocks[0].dataset.countedAt) + Date.now() - loadedAt;
    setTimeout(tick, MINUTE - (serverNow % MINUTE));
  };
  const serverNow = Number(clocks[0].dataset.countedAt);
  setTimeout(tick, MINUTE - (serverNow % MINUTE));
}

startCountdowns();
