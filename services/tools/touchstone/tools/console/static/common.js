// What every console page shares: who is signed in, fetching JSON, small DOM helpers.
"use strict";

const Touchstone = {
  async json(path, params = {}) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
    const reply = await fetch(`${path}?${query}`);
    const body = await reply.json();
    if (reply.status === 401) location.assign("/signin");
    if (!reply.ok) throw new Error(`${body.code}: ${body.details}`);
    return body;
  },

  element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  },

  svg(tag, attributes = {}, ...children) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    node.append(...children);
    return node;
  },

  // An amount in minor units in its currency's own format; `none` without a currency.
  money(minor, currency, none) {
    if (!currency) return none;
    const format = new Intl.NumberFormat("en", { style: "currency", currency });
    return format.format(minor / 10 ** format.resolvedOptions().maximumFractionDigits);
  },

  // The page's choice form: its inputs start from the address's query, and submitting it
  // calls show() (once now, too).
  choose(ids, show) {
    const asked = new URLSearchParams(location.search);
    for (const id of ids) {
      if (asked.get(id)) document.getElementById(id).value = asked.get(id);
    }
    document.getElementById("choice").addEventListener("submit", (event) => {
      event.preventDefault();
      show();
    });
    show();
  },

  when(timestamp) {
    return timestamp ? new Date(timestamp).toLocaleString() : "";
  },

  showProblem(error) {
    const problem = document.getElementById("problem");
    problem.textContent = error ? String(error.message || error) : "";
    problem.hidden = !error;
  },
};

const PAGES = [
  ["/map", "Journey map"],
  ["/board", "Recovery board"],
  ["/customer", "Customer"],
  ["/figures", "Control figures"],
];
// The header every signed-in page shares: the pages, who is signed in, and signing out.
const header = document.getElementById("top");
if (header) {
  const { element } = Touchstone;
  const nav = element("nav", { "aria-label": "Pages" });
  for (const [path, name] of PAGES) {
    const link = element("a", { href: path }, name);
    if (location.pathname === path) link.setAttribute("aria-current", "page");
    nav.append(link, " ");
  }
  const signOut = element("form", { method: "post", action: "/signout" },
    element("button", { type: "submit", class: "quiet" }, "Sign out"));
  header.append(element("span", { class: "brand" }, "Touchstone"), nav, element("span", { id: "who", class: "who" }), signOut);
}

Touchstone.json("/api/me").then((me) => {
  const who = document.getElementById("who");
  if (who && me.subject) {
    const sites = me.sites.includes("*") ? "every site" : me.sites.join(", ");
    who.textContent = `${me.subject} (${me.roles.join(", ")}; ${sites})`;
  }
});
