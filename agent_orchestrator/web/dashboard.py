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
``resumeSchedule``). Charts (``static/dashboard/charts.js``, drawn with the vendored
uPlot of ``static/vendor/uplot``) show the ``series`` that comes with each update for
the chosen window (1 h, 24 h, 7 d, 30 d): executions per interval stacked by status,
p50 and p95 durations, the agents' succeeded and failed steps, and the queue and
running executions as sampled since the page was opened. No CDN, no build step; the
page's Content-Security-Policy allows this server's own files and connections only.
"""

from __future__ import annotations

import functools
from html import escape

from .graphiql import STATIC_PREFIX

__all__ = ["CONTENT_SECURITY_POLICY", "UPLOT", "dashboard_html"]

#: The page's policy (a ``<meta>`` element): scripts, styles, images and connections
#: (``fetch`` and the WebSocket) from this server only; no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)
#: The vendored uPlot files below ``static/`` and their Subresource Integrity values
#: (see ``static/vendor/uplot/README.md``).
UPLOT = {
    "vendor/uplot/uPlot.min.css": (
        "sha384-IfV0B7MIOYuO95kO9G5ySKPz/85zqFNOAs8iy4tkK5zd9izhJAB8b7lHrwYqqmYE"
    ),
    "vendor/uplot/uPlot.iife.min.js": (
        "sha384-Gx3t0zdBAuQOuvvmaLZj7HKEiSgWTAs+VdtNY7wt19QDPTDQjFIwAuXDj0zeN00c"
    ),
}
_WINDOWS = (
    ("1h", "1 tunti", "1 hour"),
    ("24h", "24 tuntia", "24 hours"),
    ("7d", "7 päivää", "7 days"),
    ("30d", "30 päivää", "30 days"),
)


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
    uplot_css, uplot_js = (
        f'"{static}/{path}" integrity="{sri}"' for path, sri in UPLOT.items()
    )
    windows = "\n".join(
        f'        <option value="{name}"{" selected" if name == "24h" else ""}>'
        f"{fi} · {en}</option>"
        for name, fi, en in _WINDOWS
    )
    return f"""<!doctype html>
<html lang="fi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
  <title>Agent Orchestrator · mittaristo</title>
  <link rel="icon" href="{static}/graphiql/favicon.svg">
  <link rel="stylesheet" href={uplot_css}>
  <link rel="stylesheet" href="{static}/dashboard/dashboard.css">
</head>
<body data-graphql-path="{escape(graphql_path)}">
  <header>
    <h1>Työnkulkujen mittaristo <small lang="en">Workflow metrics</small></h1>
    <p class="links"><a href="/workflows/copilot">Avustaja: komento työnkuluksi
      <small lang="en">Copilot: a command to a workflow</small></a></p>
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
    <form id="window-form" class="toolbar">
      <label for="window">Aikaväli <small lang="en">Window</small></label>
      <select id="window" name="window">
{windows}
      </select>
    </form>
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
    <section class="charts" aria-labelledby="charts-title">
      <h2 id="charts-title">Kaaviot <small lang="en">Charts</small>
        <span id="charts-interval"></span></h2>
      <figure>
        <figcaption>Suoritukset tilan mukaan
          <small lang="en">Executions by status</small></figcaption>
        <div class="plot" id="chart-executions"></div>
      </figure>
      <figure>
        <figcaption>Kesto, mediaani ja 95. persentiili
          <small lang="en">Duration, p50 and p95</small></figcaption>
        <div class="plot" id="chart-durations"></div>
      </figure>
      <figure>
        <figcaption>Agenttien vaiheet
          <small lang="en">Agents' steps, succeeded and failed</small></figcaption>
        <div class="plot" id="chart-agents"></div>
      </figure>
      <figure>
        <figcaption>Jono ja käynnissä nyt
          <small lang="en">Queue and running now, since this page was opened</small>
          <span id="queue-now"></span></figcaption>
        <div class="plot" id="chart-queue"></div>
      </figure>
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
  <script src={uplot_js}></script>
  <script src="{static}/common.js"></script>
  <script src="{static}/dashboard/charts.js"></script>
  <script src="{static}/dashboard/dashboard.js"></script>
</body>
</html>
"""
