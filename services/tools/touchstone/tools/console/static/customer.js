// The customer page: who they are (personal data only for the roles that may see it: the
// services mask it), their visits as journey strips, their value and churn risk, their cases.
"use strict";

const MARKS = { VERDICT_WIN: ["✓", "won"], VERDICT_LOSE: ["✗", "lost"], VERDICT_UNSCORED: ["○", "not judged"] };

function facts(list, pairs) {
  const { element } = Touchstone;
  list.replaceChildren(...pairs.flatMap(([term, value]) => [element("dt", {}, term), element("dd", {}, String(value))]));
}

function refusedText(part) {
  return `not shown: ${part.refused.code} (${part.refused.details})`;
}

function money(minor, currency) {
  return Touchstone.money(minor, currency, "no purchases yet");
}

function showProfile(profile) {
  const list = document.getElementById("profile");
  if (profile.refused) return facts(list, [["Profile", refusedText(profile)]]);
  facts(list, [
    ["Name", profile.profile?.display_name || "not given"],
    ["Identities", profile.identities.map((i) => `${i.kind.replace("IDENTITY_KIND_", "").toLowerCase()} ${i.value}`).join(", ") || "none"],
    ["Touchpoints", profile.touchpoint_count],
    ["First seen", Touchstone.when(profile.first_seen)],
    ["Last seen", Touchstone.when(profile.last_seen)],
  ]);
}

function showValue(value) {
  const list = document.getElementById("value");
  if (value.refused) return facts(list, [["Value", refusedText(value)]]);
  const atRisk = value.at_risk.reduce((sum, r) => sum + (r.recovered ? 0 : r.value_at_risk_minor), 0);
  facts(list, [
    ["Lifetime value", money(value.lifetime_value_minor, value.currency)],
    ["Made of", `${money(value.average_spend_minor, value.currency)} a visit × ${value.visits_per_year.toFixed(1)} visits a year × ${value.expected_years.toFixed(1)} years`],
    ["Churn risk", `${Math.round(value.churn_risk * 100)}% a year${value.silent ? " (gone silent)" : ""}`],
    ["Home site and tier", `${value.site_id || "none"}${value.tier ? `, ${value.tier} (rank ${value.rank} of ${value.site_customers})` : ""}`],
    ["At risk now", money(atRisk, value.currency)],
  ]);
}

function showVisits(visits) {
  const { element, when } = Touchstone;
  const list = document.getElementById("visits");
  if (visits.refused) return list.replaceChildren(element("li", {}, refusedText(visits)));
  list.replaceChildren(
    ...visits.strips.map((visit) =>
      element(
        "li",
        { "data-visit-id": visit.visit_id },
        element("span", { class: "strip-title" }, `${when(visit.started)} · ${visit.journey_map} at ${visit.site_id}`),
        element(
          "ol",
          { class: "strip" },
          ...visit.stages.map((stage) => {
            const [mark, word] = MARKS[stage.verdict] || ["·", "no moment"];
            const label = `${stage.name}: ${word}${stage.reason ? ` (${stage.reason})` : ""}`;
            return element("li", { class: `cell ${word.replace(" ", "-")}`, title: label, "aria-label": label, "data-stage": stage.stage, "data-verdict": stage.verdict }, mark);
          }),
        ),
      ),
    ),
  );
  if (!visits.strips.length) list.append(element("li", {}, "No visits yet."));
}

function showCases(cases) {
  const { element, when } = Touchstone;
  const list = document.getElementById("cases");
  if (cases.refused) return list.replaceChildren(element("li", {}, refusedText(cases)));
  list.replaceChildren(
    ...cases.cases.map((c) =>
      element("li", { "data-case-id": c.case_id }, `${when(c.opened_at)} at ${c.site_id}: ${c.status.replace("CASE_STATUS_", "").toLowerCase()}${c.resolved_by ? ` (resolved by ${c.resolved_by})` : ""}`),
    ),
  );
  if (!cases.cases.length) list.append(element("li", {}, "No cases."));
}

async function show() {
  Touchstone.showProblem(null);
  const id = document.getElementById("id").value.trim();
  if (!id) return;
  history.replaceState(null, "", `/customer?id=${encodeURIComponent(id)}`);
  try {
    const page = await Touchstone.json("/api/customer", { id });
    document.getElementById("title").textContent = `Customer ${page.customer_id}`;
    showProfile(page.profile);
    showValue(page.value);
    showVisits(page.visits);
    showCases(page.cases);
    document.getElementById("customer").hidden = false;
  } catch (error) {
    Touchstone.showProblem(error);
  }
}

Touchstone.choose(["id"], show);
