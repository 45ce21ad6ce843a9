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

function pct(rate) {
  return `${(rate * 100).toFixed(1)}%`;
}

function chart(rate, series, days) {
  const { svg, element } = Touchstone;
  const values = series.map((day) => day[rate]);
  const top = Math.max(...values, 0.0001);
  const x = (i) => (days.length > 1 ? (i * (WIDTH - 10)) / (days.length - 1) + 5 : WIDTH / 2);
  const y = (v) => HEIGHT - 5 - (v / top) * (HEIGHT - 10);
  const d = values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)} ${y(v).toFixed(1)}`).join(" ");
  const latest = values[values.length - 1];
  const label = `${NAMES[rate]}: ${pct(latest)} on ${days[days.length - 1]}, highest ${pct(top)} over ${days.length} days`;
  const drawing = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: "img", "aria-label": label },
    svg("path", { d, class: "spark" }),
    ...values.map((v, i) => svg("circle", { cx: x(i), cy: y(v), r: "2", class: "spark-dot" })));
  return element("figure", { class: "small-chart", "data-rate": rate, "data-latest": String(latest) },
    element("figcaption", {}, `${NAMES[rate]} `, element("strong", {}, pct(latest))), drawing);
}

function table(site, series, days, rates) {
  const { element } = Touchstone;
  const head = element("tr", {}, element("th", { scope: "col" }, "Day"), element("th", { scope: "col" }, "Visits"),
    ...rates.map((r) => element("th", { scope: "col" }, NAMES[r])));
  const rows = series.map((day, i) => element("tr", {}, element("th", { scope: "row" }, days[i]), element("td", {}, String(day.visits)),
    ...rates.map((r) => element("td", {}, pct(day[r])))));
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
