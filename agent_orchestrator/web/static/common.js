// What the dashboard, the execution view and the plan preview share: the GraphQL
// endpoint, the dashboard's key in this tab's sessionStorage, making elements, and a
// POST to the API with the key in the X-API-Key header (never in a URL). Loaded before
// the page's own script, which defines MESSAGES (its error codes' words,
// COMMON_MESSAGES included).
"use strict";

const GRAPHQL_PATH = document.body.dataset.graphqlPath || "/graphql";
const KEY_STORAGE = "agentOrchestrator.apiKey";

// Finnish first, English after the dot, as on the dashboard.
const COMMON_MESSAGES = {
  UNAUTHENTICATED: "API-avain ei kelpaa · The API key was refused",
  FORBIDDEN: "Avaimella ei ole oikeutta tähän · The key may not do this",
  RATE_LIMITED: "Liikaa pyyntöjä, odota hetki · Too many requests, wait a moment",
};

const $ = (id) => document.getElementById(id);

function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value == null || value === false) continue;
    if (key === "className") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

/** The first error in words: the code's (the page's MESSAGES), then the server's own
 * message, which says what happened and what to do. */
function errorText(errors) {
  const first = errors[0] || {};
  const code = first.extensions && first.extensions.code;
  const told = first.message ? `: ${first.message}` : "";
  return MESSAGES[code] ? `${MESSAGES[code]}${told}` : `Virhe · Error${told || ` ${code}`}`;
}

/** POST a query with the key in X-API-Key; throws an Error with a readable message
 * (and the error's `code`). */
async function query(key, text, variables = {}) {
  let response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-API-Key": key },
      body: JSON.stringify({ query: text, variables }),
    });
  } catch {
    throw new Error("Palvelimeen ei saada yhteyttä · Cannot reach the server");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's error page): the status code is all there is.
  }
  if (body && body.errors && body.errors.length) {
    const error = new Error(errorText(body.errors));
    error.code = body.errors[0].extensions && body.errors[0].extensions.code;
    throw error;
  }
  if (!response.ok || !body || !body.data) {
    throw new Error(`Palvelin vastasi ${response.status} · The server answered ${response.status}`);
  }
  return body.data;
}
