// The sign-in page: say what went wrong, and offer the development roles when there are any.
"use strict";

if (new URLSearchParams(location.search).get("problem")) {
  document.getElementById("problem").hidden = false;
}

fetch("/api/dev-roles")
  .then((reply) => reply.json())
  .then(({ roles }) => {
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
