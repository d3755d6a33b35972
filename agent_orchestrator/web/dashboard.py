"""The live metrics dashboard served at ``/workflows/metrics``.

A static page: its script (``static/dashboard/dashboard.js``) asks for an API key, keeps
it in the tab's ``sessionStorage``, subscribes to ``metricsUpdates`` over
``graphql-transport-ws`` (the key in the ``connection_init`` payload) and lists recent
executions over ``POST /graphql`` (the key in ``X-API-Key``), and the documents held for
review ("Tarkistettavat"), each with a small form that corrects its total and VAT
line (``correctDocument``) and books it (``bookDocument``), the approvals that wait
("Odottaa hyväksyntää", ``approvals(status: PENDING)``), each with an optional comment
and Approve / Reject buttons (``decideApproval``), and the schedules ("Ajastukset") with
their next and last runs and a button that pauses or resumes each (``pauseSchedule`` /
``resumeSchedule``). No CDN, no build step.
"""

from __future__ import annotations

import functools
from html import escape

from .graphiql import STATIC_PREFIX

__all__ = ["dashboard_html"]


@functools.cache
def dashboard_html(
    static_prefix: str = STATIC_PREFIX, graphql_path: str = "/graphql"
) -> str:
    """The dashboard page.

    Args:
        static_prefix: Where ``STATIC_DIR`` is mounted (the page's script and style).
        graphql_path: The GraphQL endpoint, for both HTTP and WebSocket.
    """
    static = escape(static_prefix)
    return f"""<!doctype html>
<html lang="fi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <title>Agent Orchestrator · mittaristo</title>
  <link rel="icon" href="{static}/graphiql/favicon.svg">
  <link rel="stylesheet" href="{static}/dashboard/dashboard.css">
</head>
<body data-graphql-path="{escape(graphql_path)}">
  <header>
    <h1>Työnkulkujen mittaristo <small lang="en">Workflow metrics</small></h1>
    <form id="key-form" autocomplete="off">
      <label for="key">API-avain <small lang="en">API key</small></label>
      <input id="key" name="key" type="password" placeholder="ao_..."
        spellcheck="false">
      <button type="submit">Yhdistä <small lang="en">Connect</small></button>
      <button type="button" id="forget">Unohda avain
        <small lang="en">Forget key</small></button>
    </form>
    <p id="status" role="status" aria-live="polite">Ei yhteyttä
      <small lang="en">Not connected</small></p>
  </header>
  <main>
    <section class="cards" aria-labelledby="summary-title">
      <h2 id="summary-title">Viimeiset 24 tuntia
        <small lang="en">Last 24 hours</small></h2>
      <div class="card"><span id="total">–</span>Suorituksia
        <small lang="en">Executions</small></div>
      <div class="card"><span id="success">–</span>Onnistumisaste
        <small lang="en">Success rate</small></div>
      <div class="card"><span id="errors">–</span>Virheaste
        <small lang="en">Error rate</small></div>
      <div class="card"><span id="avg">–</span>Keskimääräinen kesto
        <small lang="en">Average duration</small></div>
      <div class="card"><span id="p95">–</span>Kesto, 95. persentiili
        <small lang="en">p95 duration</small></div>
    </section>
    <section aria-labelledby="agents-title">
      <h2 id="agents-title">Agentit <small lang="en">Agents</small></h2>
      <table>
        <thead><tr>
          <th>Agentti <small lang="en">Agent</small></th>
          <th>Ajoja <small lang="en">Runs</small></th>
          <th>Onnistumisaste <small lang="en">Success rate</small></th>
          <th>Keskim. kesto <small lang="en">Avg duration</small></th>
        </tr></thead>
        <tbody id="agents"><tr><td colspan="4">–</td></tr></tbody>
      </table>
    </section>
    <section aria-labelledby="executions-title">
      <h2 id="executions-title">Viimeisimmät suoritukset
        <small lang="en">Recent executions</small></h2>
      <table>
        <thead><tr>
          <th>Tunniste <small lang="en">Id</small></th>
          <th>Tila <small lang="en">Status</small></th>
          <th>Pohja <small lang="en">Template</small></th>
          <th>Aloitettu <small lang="en">Started</small></th>
          <th>Kesto <small lang="en">Duration</small></th>
        </tr></thead>
        <tbody id="executions"><tr><td colspan="5">–</td></tr></tbody>
      </table>
    </section>
    <section aria-labelledby="approvals-title">
      <h2 id="approvals-title">Odottaa hyväksyntää
        <small lang="en">Waiting for approval</small></h2>
      <p id="approvals-status" role="status" aria-live="polite"></p>
      <table>
        <thead><tr>
          <th>Mitä <small lang="en">What</small></th>
          <th>Suoritus ja vaihe <small lang="en">Execution and step</small></th>
          <th>Hyväksyjä <small lang="en">Approver</small></th>
          <th>Voimassa <small lang="en">Expires</small></th>
          <th>Päätä <small lang="en">Decide</small></th>
        </tr></thead>
        <tbody id="approvals"><tr><td colspan="5">–</td></tr></tbody>
      </table>
    </section>
    <section aria-labelledby="review-title">
      <h2 id="review-title">Tarkistettavat <small lang="en">To review</small></h2>
      <p id="review-status" role="status" aria-live="polite"></p>
      <table>
        <thead><tr>
          <th>Myyjä <small lang="en">Merchant</small></th>
          <th>Päivämäärä <small lang="en">Date</small></th>
          <th>Summa <small lang="en">Total</small></th>
          <th>Huomautukset <small lang="en">Warnings</small></th>
          <th>Korjaa ja kirjaa <small lang="en">Correct and book</small></th>
        </tr></thead>
        <tbody id="review"><tr><td colspan="5">–</td></tr></tbody>
      </table>
    </section>
    <section aria-labelledby="schedules-title">
      <h2 id="schedules-title">Ajastukset <small lang="en">Schedules</small></h2>
      <p id="schedules-status" role="status" aria-live="polite"></p>
      <table>
        <thead><tr>
          <th>Nimi <small lang="en">Name</small></th>
          <th>Ajastus <small lang="en">Cron</small></th>
          <th>Seuraava ajo <small lang="en">Next run</small></th>
          <th>Edellinen ajo <small lang="en">Last run</small></th>
          <th>Tila <small lang="en">State</small></th>
        </tr></thead>
        <tbody id="schedules"><tr><td colspan="5">–</td></tr></tbody>
      </table>
    </section>
  </main>
  <noscript>Mittaristo tarvitsee JavaScriptin. <small lang="en">The dashboard needs
    JavaScript.</small></noscript>
  <script src="{static}/dashboard/dashboard.js"></script>
</body>
</html>
"""
