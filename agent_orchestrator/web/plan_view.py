"""The copilot's plan preview, served at ``/workflows/copilot``.

A static page like the dashboard and the execution view (the same API key in the tab's
``sessionStorage``, the same Content-Security-Policy). A person types a command in
Finnish (or Swedish or English); the page asks ``copilotPlan`` for the plan (nothing
runs) and draws its graph with the execution view's layout and drawing
(``static/execution/layout.js`` and ``graph.js``), with the planner's explanation, its
warnings, the variables and, for a repeating command, the schedule. "Suorita" then
sends the same command with the same reference date to ``copilotExecute`` and opens
the new execution's view (or says which schedule was made). A command the copilot
cannot or may not plan shows the API's message, in the command's language.
"""

from __future__ import annotations

from html import escape

from .dashboard import CONTENT_SECURITY_POLICY
from .graphiql import STATIC_PREFIX

__all__ = ["SCRIPTS", "plan_view_html"]

#: The page's scripts below ``static``, in load order (common.js and the execution
#: view's drawing, shared).
SCRIPTS = (
    "common.js",
    "execution/layout.js",
    "execution/graph.js",
    "execution/plan.js",
)


def plan_view_html(
    static_prefix: str = STATIC_PREFIX, graphql_path: str = "/graphql"
) -> str:
    """The plan preview page (its data is read by the page's script).

    Args:
        static_prefix: Where ``STATIC_DIR`` is mounted.
        graphql_path: The GraphQL endpoint.
    """
    static = escape(static_prefix)
    scripts = "\n".join(
        f'  <script src="{static}/{name}"></script>' for name in SCRIPTS
    )
    return f"""<!doctype html>
<html lang="fi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
  <title>Agent Orchestrator · avustaja</title>
  <link rel="icon" href="{static}/graphiql/favicon.svg">
  <link rel="stylesheet" href="{static}/execution/execution.css">
</head>
<body data-graphql-path="{escape(graphql_path)}">
  <header>
    <p class="back"><a href="/workflows/metrics">← Mittaristo
      <small lang="en">Dashboard</small></a></p>
    <h1>Avustaja <small lang="en">Copilot</small></h1>
    <form id="key-form" autocomplete="off">
      <label for="key">API-avain <small lang="en">API key</small></label>
      <input id="key" name="key" type="password" placeholder="ao_..."
        spellcheck="false">
      <button type="submit">Tallenna <small lang="en">Save</small></button>
      <button type="button" id="forget">Unohda avain
        <small lang="en">Forget key</small></button>
    </form>
    <p id="status" role="status" aria-live="polite">Anna API-avain
      <small lang="en">Enter an API key</small></p>
  </header>
  <main>
    <section aria-labelledby="command-title">
      <h2 id="command-title">Komento <small lang="en">Command</small></h2>
      <form id="command-form" class="command" autocomplete="off">
        <label for="command">Mitä tehdään? <small lang="en">What should be
          done?</small></label>
        <textarea id="command" name="command" rows="2" maxlength="2000"
          placeholder="Luo talousraportti viime kuulta"></textarea>
        <div class="actions">
          <label for="reference-date">Päivä, josta ajat lasketaan
            <small lang="en">Reference date</small></label>
          <input id="reference-date" name="reference-date" type="date">
          <button type="submit" id="plan">Suunnittele
            <small lang="en">Plan</small></button>
        </div>
      </form>
      <p id="plan-status" role="status" aria-live="polite"></p>
    </section>
    <section id="plan-section" aria-labelledby="plan-title" hidden>
      <h2 id="plan-title">Suunnitelma <small lang="en">Plan</small></h2>
      <p id="plan-explanation" class="explanation"></p>
      <ul id="plan-warnings" class="errors"></ul>
      <p id="plan-meta" class="note"></p>
      <p id="plan-schedule" class="note" hidden></p>
      <div class="actions">
        <button type="button" id="run">Suorita
          <small lang="en">Run</small></button>
        <span id="run-note" class="note"></span>
      </div>
      <p id="action-status" role="status" aria-live="polite"></p>
    </section>
    <section id="graph-section" class="graph" aria-labelledby="graph-title" hidden>
      <h2 id="graph-title">Työnkulku <small lang="en">Workflow</small></h2>
      <div id="graph" class="graph-box" role="group"
        aria-label="Suunnitelman kaavio · Plan graph"></div>
      <div id="plan-step" class="steps"></div>
    </section>
    <section id="variables-section" aria-labelledby="variables-title" hidden>
      <h2 id="variables-title">Muuttujat <small lang="en">Variables</small></h2>
      <pre id="plan-variables" class="json-block"></pre>
    </section>
  </main>
  <noscript>Sivu tarvitsee JavaScriptin. <small lang="en">The page needs
    JavaScript.</small></noscript>
{scripts}
</body>
</html>
"""
