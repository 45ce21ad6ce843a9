// Control figures: each site's four rates day by day as small line charts, each with its latest
// value written out, and the numbers themselves in a table beneath.
"use strict";

const NAMES = {
  complaint_rate: "Complaint rate",
  omission_rate: "Omission rate",
  dissatisfaction_rate: "Dissatisfaction rate",
  on_time_rate: "On-time rate",
};
const WIDTH = 220;
const HEIGHT = 60;

const NOTHING = "—"; // a rate with nothing to rate that day (no visits, no cases due...)

function pct(rate) {
  return rate == null ? NOTHING : `${(rate * 100).toFixed(1)}%`;
}

// The path through the days that have a rate: a day with nothing to rate breaks the line.
function line(values, x, y) {
  return values.map((v, i) => (v === null ? "" : `${i && values[i - 1] !== null ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`)).join(" ");
}

function chart(rate, series, days) {
  const { svg, element } = Touchstone;
  const values = series.map((day) => day[rate] ?? null);
  const rated = values.filter((v) => v !== null);
  const top = Math.max(...rated, 0.0001);
  const x = (i) => (days.length > 1 ? (i * (WIDTH - 10)) / (days.length - 1) + 5 : WIDTH / 2);
  const y = (v) => HEIGHT - 5 - (v / top) * (HEIGHT - 10);
  const latest = values[values.length - 1];
  const on = `on ${days[days.length - 1]}`;
  const now = latest === null ? `nothing to rate ${on}` : `${pct(latest)} ${on}`;
  const highest = rated.length ? `highest ${pct(top)}` : "nothing rated";
  const label = `${NAMES[rate]}: ${now}, ${highest} over ${days.length} days`;
  const drawing = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: "img", "aria-label": label },
    svg("line", { x1: 0, x2: WIDTH, y1: y(0), y2: y(0), class: "spark-axis" }),
    svg("path", { d: line(values, x, y), class: "spark" }),
    ...values.map((v, i) => (v === null
      ? svg("circle", { cx: x(i), cy: y(0), r: "2", class: "spark-none" }) // nothing to rate
      : svg("circle", { cx: x(i), cy: y(v), r: "2", class: "spark-dot" }))));
  const caption = element("strong", latest === null ? { title: "nothing to rate yet" } : {}, pct(latest));
  return element("figure", { class: "small-chart", "data-rate": rate, "data-latest": latest === null ? "" : String(latest) },
    element("figcaption", {}, `${NAMES[rate]} `, caption), drawing);
}

function table(site, series, days, rates) {
  const { element } = Touchstone;
  const head = element("tr", {}, element("th", { scope: "col" }, "Day"), element("th", { scope: "col" }, "Visits"),
    ...rates.map((r) => element("th", { scope: "col" }, NAMES[r])));
  const rows = series.map((day, i) => element("tr", {}, element("th", { scope: "row" }, days[i]), element("td", {}, String(day.visits)),
    ...rates.map((r) => element("td", day[r] == null ? { title: "nothing to rate" } : {}, pct(day[r])))));
  return element("details", {}, element("summary", {}, `The numbers for ${site}`),
    element("table", { class: "numbers" }, element("thead", {}, head), element("tbody", {}, ...rows)));
}

async function show() {
  Touchstone.showProblem(null);
  const site = document.getElementById("site").value.trim();
  const days = document.getElementById("days").value;
  history.replaceState(null, "", `/figures?${new URLSearchParams(Object.entries({ site, days }).filter(([, v]) => v))}`);
  try {
    const figures = await Touchstone.json("/api/figures", { site, days });
    const { element } = Touchstone;
    const sections = Object.entries(figures.sites).map(([name, series]) =>
      element("section", { class: "card", "data-site": name, "aria-label": `Site ${name}` },
        element("h2", {}, name),
        element("div", { class: "charts" }, ...figures.rates.map((rate) => chart(rate, series, figures.days))),
        table(name, series, figures.days, figures.rates)));
    document.getElementById("sites").replaceChildren(...sections);
    if (!sections.length) document.getElementById("sites").append(element("p", {}, "No figures for these days."));
  } catch (error) {
    Touchstone.showProblem(error);
  }
}

Touchstone.choose(["site", "days"], show);
