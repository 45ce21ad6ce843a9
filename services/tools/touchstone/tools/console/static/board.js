// The recovery board: open cases, overdue first, then by due time and value at risk; a case's
// steps open beneath it, and staff acknowledge or complete theirs (notify's gRPC commands, under
// the signed-in user's own name).
"use strict";

const WORKED_BY_PEOPLE = new Set(["staff", "duty_manager"]);

// Each lost moment's reason: the standard broken and what was measured ("greeted within 30 s:
// 45 (<= 30)"), or that it did not happen; and the customer's return, if they came back since.
function reasonsOf(found) {
  const { element } = Touchstone;
  const told = found.reasons.map((reason) =>
    element("div", { class: reason.endsWith("did not happen") ? "reason absent" : "reason" }, reason),
  );
  if (found.returned_by) told.push(element("div", { class: "returned" }, "came back since; nothing shows it recovered yet"));
  return told.length ? told : ["no reason given"];
}

// What the case's lost moments put at risk, once loyalty has valued them (0 is a value).
function valueAtRisk(found) {
  if (!found.valued) return "not valued yet";
  if (!found.currency) return "0 (nothing bought yet)";
  return Touchstone.money(found.value_at_risk_minor, found.currency, "0");
}

function caseRow(found, now) {
  const { element, when } = Touchstone;
  const overdue = new Date(found.due_at).getTime() / 1000 < now;
  const toggle = element("button", { type: "button", "aria-expanded": "false", "aria-controls": `steps-${found.case_id}` }, "Steps");
  const row = element(
    "tr",
    {
      "data-case-id": found.case_id,
      "data-due": String(new Date(found.due_at).getTime() / 1000),
      "data-value": String(found.value_at_risk_minor),
      class: overdue ? "overdue" : "",
    },
    element("td", {}, element("time", { datetime: found.due_at }, when(found.due_at)), overdue ? element("strong", {}, " overdue") : ""),
    element("td", {}, found.site_id),
    element("td", {}, element("a", { href: `/customer?id=${encodeURIComponent(found.customer_id)}` }, found.customer_id)),
    element("td", { class: "reasons" }, ...reasonsOf(found)),
    element("td", {}, valueAtRisk(found)),
    element("td", {}, toggle),
  );
  const detail = element("tr", { id: `steps-${found.case_id}`, class: "steps", hidden: "" }, element("td", { colspan: "6" }));
  toggle.addEventListener("click", () => {
    const opening = detail.hidden;
    detail.hidden = !opening;
    toggle.setAttribute("aria-expanded", String(opening));
    if (opening) showSteps(found.case_id, detail.firstChild);
  });
  return [row, detail];
}

function stepItem(found, step) {
  const { element, when } = Touchstone;
  const item = element(
    "li",
    { "data-step": String(step.n), "data-status": step.status },
    `${step.n}. ${step.action} (${step.owner}, ${step.channel}), due `,
    element("time", { datetime: step.due_at }, when(step.due_at)),
    `: `,
    element("span", { class: "status" }, step.status + (step.taken_by ? ` by ${step.taken_by}` : "")),
  );
  if (WORKED_BY_PEOPLE.has(step.owner) && step.status !== "done") {
    for (const what of step.status === "pending" ? ["acknowledge", "complete"] : ["complete"]) {
      const button = element("button", { type: "button", "data-do": what }, what === "acknowledge" ? "Acknowledge" : "Complete");
      button.addEventListener("click", () => takeStep(found.case_id, step.n, what, item));
      item.append(" ", button);
    }
  }
  return item;
}

async function showSteps(caseId, cell) {
  try {
    const found = await Touchstone.json("/api/case", { id: caseId });
    const reasons = found.reasons.length ? `What went wrong: ${found.reasons.join("; ")}` : "";
    cell.replaceChildren(
      Touchstone.element("p", {}, reasons),
      Touchstone.element("ul", { class: "step-list" }, ...found.steps.map((s) => stepItem(found, s))),
    );
  } catch (error) {
    Touchstone.showProblem(error);
  }
}

async function takeStep(caseId, n, what, item) {
  const body = new URLSearchParams({ case_id: caseId, n: String(n), do: what });
  const reply = await fetch("/api/step", { method: "POST", body });
  const answer = await reply.json();
  if (!reply.ok) {
    Touchstone.showProblem(new Error(`${answer.code}: ${answer.details}`));
    return;
  }
  Touchstone.showProblem(null);
  const step = answer.steps.find((s) => s.n === n);
  if (step) item.replaceWith(stepItem(answer, step));
}

async function show() {
  Touchstone.showProblem(null);
  const site = document.getElementById("site").value.trim();
  history.replaceState(null, "", site ? `/board?site=${encodeURIComponent(site)}` : "/board");
  try {
    const { cases, total, now } = await Touchstone.json("/api/cases", { site });
    const rows = cases.flatMap((c) => caseRow(c, now));
    document.getElementById("cases").replaceChildren(...rows);
    const overdue = cases.filter((c) => new Date(c.due_at).getTime() / 1000 < now).length;
    document.getElementById("summary").textContent = `${total} open, ${overdue} of those shown overdue`;
  } catch (error) {
    Touchstone.showProblem(error);
  }
}

Touchstone.choose(["site"], show);
