// The journey map page: stages in journey order as a path, each coloured by its win rate (with
// the percentage written beside it), its moments, the standard broken most and its quadrant;
// kept live from WatchMoments (server-sent events); a stage lists its recent lost moments.
"use strict";

const QUADRANTS = {
  QUADRANT_A_COLD: ["A", "cold"],
  QUADRANT_B_PRODUCTION_LINE: ["B", "production line"],
  QUADRANT_C_FRIENDLY_DISORGANISED: ["C", "friendly but disorganised"],
  QUADRANT_D_QUALITY: ["D", "quality"],
};
const STEP = 170; // horizontal room a stage takes
const ROW_HEIGHT = 175; // vertical room a row of stages takes
const FEED_KEPT = 30;
const REFRESH_MS = 500; // the map is asked for again this long after a moment is heard
const RECONNECT_MS = 2000;
const TRANSIENT = new Set(["UNAVAILABLE", "CANCELLED", "RESOURCE_EXHAUSTED"]);

const page = {
  view: null, // the JourneyMapView shown
  params: {}, // the map, site and period it was asked for
  events: null, // the EventSource of scored moments
  openStage: "", // the stage whose lost moments are listed
  refreshing: false, // a refresh of the figures is under way
  refreshAgain: false, // and moments were heard meanwhile
};

function band(stage) {
  if (stage.wins + stage.losses === 0) return 0;
  if (stage.win_rate >= 0.9) return 4;
  if (stage.win_rate >= 0.75) return 3;
  if (stage.win_rate >= 0.5) return 2;
  return 1;
}

function percent(stage) {
  return stage.wins + stage.losses ? `${Math.round(stage.win_rate * 100)}% won` : "nothing judged";
}

// Why a stage has no quadrant: a quadrant needs both sides of service judged (docs/domain.md §5).
function noQuadrant(stage) {
  if (!stage.wins && !stage.losses) return "nothing judged yet";
  return "no quadrant: only one side of service is judged here";
}

function describe(stage) {
  const [letter, quadrant] = QUADRANTS[stage.quadrant] || ["–", noQuadrant(stage)];
  const broken = stage.most_broken.length ? `; broken most: ${stage.most_broken[0].description || stage.most_broken[0].standard_id}` : "";
  return `${stage.name}: ${percent(stage)}, ${stage.moments} moments, quadrant ${letter} (${quadrant})${broken}`;
}

function stageNode(stage, x, y) {
  const { svg } = Touchstone;
  const [letter] = QUADRANTS[stage.quadrant] || ["–"];
  const broken = stage.most_broken[0];
  const node = svg("g", {
    class: `stage b${band(stage)}`,
    transform: `translate(${x} ${y})`,
    tabindex: "0",
    role: "button",
    "aria-label": describe(stage),
    "data-stage": stage.stage,
    "data-moments": stage.moments,
    "data-wins": stage.wins,
    "data-losses": stage.losses,
  });
  const name = stage.name.length > 22 ? `${stage.name.slice(0, 21)}…` : stage.name;
  node.append(
    svg("title", {}, describe(stage)), // the whole name and figures, on hover
    svg("circle", { r: "34" }),
    svg("text", { class: "badge", y: "8" }, letter),
    svg("text", { class: "name", y: "56" }, name),
    svg("text", { class: "rate", y: "74" }, percent(stage)),
    svg("text", { class: "count", y: "90" }, `${stage.moments} moments`),
  );
  if (broken) {
    const text = broken.description || broken.standard_id;
    node.append(svg("text", { class: "broken", y: "106" }, text.length > 26 ? `${text.slice(0, 25)}…` : text));
  }
  node.addEventListener("click", () => showLost(stage.stage));
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      showLost(stage.stage);
    }
  });
  return node;
}

// Where each route stage goes: rows as wide as the page allows, the path turning back at each
// row's end (so the route reads on), and every stage visible without scrolling.
function layout(count, perRow) {
  return Array.from({ length: count }, (_, i) => {
    const row = Math.floor(i / perRow);
    const column = row % 2 ? perRow - 1 - (i % perRow) : i % perRow;
    return [80 + column * STEP, 60 + row * ROW_HEIGHT + (i % 2 ? 14 : 0)];
  });
}

function draw() {
  const { svg } = Touchstone;
  const figure = document.getElementById("journey");
  const focused = document.activeElement?.dataset?.stage; // kept across the redraw
  const route = page.view.stages.filter((s) => s.on_route);
  const anywhere = page.view.stages.filter((s) => !s.on_route);
  const room = figure.parentElement.clientWidth || 1200;
  const perRow = Math.max(2, Math.floor((room - 40) / STEP));
  const columns = Math.min(Math.max(route.length, anywhere.length, 1), perRow);
  const rows = Math.ceil(Math.max(route.length, 1) / perRow);
  const asideY = 60 + rows * ROW_HEIGHT + 20;
  const width = columns * STEP + 40;
  const height = anywhere.length ? asideY + ROW_HEIGHT + 20 : asideY;
  figure.setAttribute("viewBox", `0 0 ${width} ${height}`);
  figure.setAttribute("width", width);
  figure.setAttribute("height", height);
  figure.replaceChildren();
  const points = layout(route.length, perRow);
  if (points.length > 1) {
    const d = points.map(([x, y], i) => `${i ? "L" : "M"}${x} ${y}`).join(" ");
    figure.append(svg("path", { class: "route", d, "aria-hidden": "true" }));
  }
  route.forEach((stage, i) => figure.append(stageNode(stage, ...points[i])));
  if (anywhere.length) {
    figure.append(svg("text", { class: "aside", x: "20", y: String(asideY) }, "At any point"));
    anywhere.forEach((stage, i) => figure.append(stageNode(stage, 80 + i * STEP, asideY + 50)));
  }
  if (focused) figure.querySelector(`g.stage[data-stage="${CSS.escape(focused)}"]`)?.focus();
  const site = page.view.site_id || "every site";
  document.getElementById("title").textContent =
    `${page.view.name}: ${site}, ${page.view.first_day} to ${page.view.last_day}`;
}

// Each staff team with its quadrant, over all its stages.
function drawTeams() {
  const { element } = Touchstone;
  const head = element("tr", {}, ...["Team", "Quadrant", "Won", "Moments", "Stages"].map((h) => element("th", { scope: "col" }, h)));
  const rows = (page.view.teams || []).map((team) => {
    const [letter, quadrant] = QUADRANTS[team.quadrant] || ["–", noQuadrant(team)];
    return element(
      "tr",
      { "data-team": team.stage },
      element("th", { scope: "row" }, team.stage.replaceAll("_", " ")),
      element("td", { class: "quadrant", title: quadrant }, letter),
      element("td", {}, percent(team)),
      element("td", {}, String(team.moments)),
      element("td", {}, team.name),
    );
  });
  document.getElementById("teams").replaceChildren(head, ...rows);
}

// The whole map's shares met by procedural area and quality dimension, as tables.
function drawLabels() {
  const { element } = Touchstone;
  const whole = page.view.whole_map;
  for (const [id, scores = []] of [["areas", whole.areas], ["dimensions", whole.dimensions]]) {
    const table = document.getElementById(id);
    const rows = scores.map((s) =>
      element("tr", { "data-label": s.name }, element("th", { scope: "row" }, s.name.replaceAll("_", " ")), element("td", {}, `${Math.round(s.share * 100)}% met`), element("td", {}, `of ${s.weight}`)),
    );
    table.replaceChildren(table.caption || "", ...(rows.length ? rows : [element("tr", {}, element("td", {}, "nothing judged"))]));
  }
}

// What producers sent on this map that no stage declares, per producer (contacts' counts).
async function drawWords() {
  const { element } = Touchstone;
  const table = document.getElementById("words");
  try {
    const { gaps } = await Touchstone.json("/api/vocabulary", { map: page.params.map || "" });
    const head = element("tr", {}, ...["Producer", "Stage", "Kind", "Word", "Touchpoints"].map((h) => element("th", { scope: "col" }, h)));
    const rows = gaps.map((g) =>
      element("tr", { "data-word": g.name }, element("td", {}, g.source), element("td", {}, g.stage), element("td", {}, g.kind.replaceAll("_", " ")), element("td", {}, g.name), element("td", {}, String(g.touchpoints))),
    );
    table.replaceChildren(head, ...(rows.length ? rows : [element("tr", {}, element("td", { colspan: "5" }, "none: every word sent is one a stage declares"))]));
  } catch (error) {
    table.replaceChildren(element("tr", {}, element("td", {}, `not shown: ${error.message}`)));
  }
}

function lostItem(moment) {
  const { element, when } = Touchstone;
  return element(
    "li",
    { "data-moment-id": moment.moment_id },
    element("time", { datetime: moment.occurred_at }, when(moment.occurred_at)),
    ` ${moment.site_id} · customer ${moment.customer_id}: ${moment.reason || "lost"}`,
  );
}

async function showLost(stage) {
  page.openStage = stage;
  const section = document.getElementById("lost");
  const name = page.view.stages.find((s) => s.stage === stage)?.name || stage;
  document.getElementById("lost-title").textContent = `Lost moments: ${name}`;
  try {
    const { moments } = await Touchstone.json("/api/lost", { ...page.params, stage });
    const list = document.getElementById("lost-list");
    list.replaceChildren(...moments.map(lostItem));
    if (!moments.length) list.append(Touchstone.element("li", {}, "None lost in this period."));
    section.hidden = false;
    section.focus();
  } catch (error) {
    Touchstone.showProblem(error);
  }
}

function heard(moment) {
  const { element, when } = Touchstone;
  const verdict = moment.verdict === "VERDICT_LOSE" ? "lost" : moment.verdict === "VERDICT_WIN" ? "won" : "not judged";
  const feed = document.getElementById("feed");
  feed.prepend(
    element(
      "li",
      { "data-moment-id": moment.moment_id, class: verdict },
      element("time", { datetime: moment.occurred_at }, when(moment.occurred_at)),
      ` ${moment.stage} at ${moment.site_id}: ${verdict}${moment.reason ? ` (${moment.reason})` : ""}`,
    ),
  );
  while (feed.children.length > FEED_KEPT) feed.lastChild.remove();
  const list = document.getElementById("lost-list");
  const listed = list.querySelector(`[data-moment-id="${CSS.escape(moment.moment_id)}"]`);
  if (page.openStage === moment.stage && moment.verdict === "VERDICT_LOSE" && !listed) {
    list.prepend(lostItem(moment));
  }
  refreshSoon();
}

// The figures are always journey's: a moment heard asks for the map again (at most once a
// REFRESH_MS), rather than being added to figures it may already be in.
function refreshSoon() {
  if (page.refreshing) {
    page.refreshAgain = true;
    return;
  }
  page.refreshing = true;
  setTimeout(async () => {
    try {
      const view = await Touchstone.json("/api/map", page.params);
      if (JSON.stringify(view) !== JSON.stringify(page.view)) { // redraw only what changed:
        page.view = view; // no flicker, and a stage a reader is on stays where it is
        draw();
        drawTeams();
        drawLabels();
      }
    } catch (error) {
      Touchstone.showProblem(error);
    }
    page.refreshing = false;
    if (page.refreshAgain) {
      page.refreshAgain = false;
      refreshSoon();
    }
  }, REFRESH_MS);
}

function chosen() {
  const value = (id) => document.getElementById(id).value;
  return { map: value("map"), site: value("site"), first: value("first"), last: value("last") };
}

function listen() {
  if (page.events) page.events.close();
  const live = document.getElementById("live");
  const { map, site } = page.params;
  page.events = new EventSource(`/events/moments?${new URLSearchParams({ map, site })}`);
  page.events.addEventListener("live", () => {
    live.textContent = "live";
    live.dataset.state = "live";
    if (page.view) refreshSoon(); // what came while (re)connecting is in the figures
  });
  page.events.addEventListener("moment", (event) => heard(JSON.parse(event.data)));
  page.events.addEventListener("missed", (event) => {
    live.textContent = `live (${JSON.parse(event.data).missed} missed: reload for exact figures)`;
  });
  page.events.addEventListener("refused", (event) => {
    const problem = JSON.parse(event.data);
    page.events.close();
    if (TRANSIENT.has(problem.code)) { // the service restarted, say: listen again shortly
      live.textContent = "reconnecting…";
      live.dataset.state = "";
      setTimeout(listen, RECONNECT_MS);
      return;
    }
    Touchstone.showProblem(new Error(`${problem.code}: ${problem.details}`));
    live.textContent = "not live";
  });
  page.events.onerror = () => { live.textContent = "reconnecting…"; live.dataset.state = ""; };
}

async function show() {
  Touchstone.showProblem(null);
  page.params = chosen(); // what was asked for; the form may change without being submitted
  const params = page.params;
  history.replaceState(null, "", `/map?${new URLSearchParams(Object.entries(params).filter(([, v]) => v))}`);
  try {
    page.view = await Touchstone.json("/api/map", params);
    draw();
    drawTeams();
    drawLabels();
    drawWords();
    document.getElementById("first").value = page.view.first_day;
    document.getElementById("last").value = page.view.last_day;
    document.getElementById("lost").hidden = true;
    page.openStage = "";
    listen();
  } catch (error) {
    Touchstone.showProblem(error);
  }
}

async function start() {
  const { maps } = await Touchstone.json("/api/maps");
  const select = document.getElementById("map");
  select.replaceChildren(...maps.map((m) => Touchstone.element("option", { value: m }, m)));
  Touchstone.choose(["map", "site", "first", "last"], show);
}

start();
window.addEventListener("resize", () => page.view && draw()); // rows follow the page width
