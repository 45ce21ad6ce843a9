// The sign-in page: say what went wrong, and offer the identity provider and the development
// roles when there are any.
"use strict";

const PROBLEMS = {
  token: "That is not a token. Paste the whole JWT.",
  provider: "Signing in with your organisation did not work; try again, or ask your administrator (the console's log says why).",
};
const problem = new URLSearchParams(location.search).get("problem");
if (problem) {
  const shown = document.getElementById("problem");
  shown.textContent = PROBLEMS[problem] || PROBLEMS.token;
  shown.hidden = false;
}

fetch("/api/sign-in")
  .then((reply) => reply.json())
  .then(({ roles, provider }) => {
    if (provider) {
      document.getElementById("provider-link").title = provider;
      document.getElementById("provider").hidden = false;
    }
    if (!roles.length) return;
    const form = document.getElementById("dev-roles");
    for (const role of roles) {
      const button = document.createElement("button");
      button.type = "submit";
      button.name = "role";
      button.value = role;
      button.textContent = role;
      form.append(button);
    }
    document.getElementById("dev").hidden = false;
  });
