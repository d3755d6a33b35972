"""The live view of one execution, served at ``/workflows/executions/<id>``.

A static page like the dashboard (the same API key in the tab's ``sessionStorage``, the
same Content-Security-Policy): its scripts read ``execution(id)`` with its graph, steps
and stored events over ``POST /graphql``, then follow ``executionEvents(executionId,
afterSeq)`` over ``graphql-transport-ws`` from the last event read, so that nothing is
missed or shown twice. It draws the workflow graph as SVG (``static/execution/
layout.js``: a layered layout, ``graph.js``: the drawing; each for-each's elements
inside its box), a timeline of the attempts (retries, waits for approval), each step's
inputs and output, the errors and the events, and offers Cancel (``cancelExecution``)
and, while an approval waits, Approve / Reject (``decideApproval``), showing what the
API answers. An execution planned by the copilot shows its command and explanation.
"""

from __future__ import annotations

from html import escape

from .dashboard import CONTENT_SECURITY_POLICY
from .graphiql import STATIC_PREFIX

__all__ = ["SCRIPTS", "execution_view_html"]

#: The page's scripts below ``static``, in load order (common.js: what the pages share).
SCRIPTS = (
    "common.js",
    "execution/layout.js",
    "execution/graph.js",
    "execution/execution.js",
)


def execution_view_html(
    execution_id: str,
    static_prefix: str = STATIC_PREFIX,
    graphql_path: str = "/graphql",
) -> str:
    """The page of one execution (its data is read by the page's script).

    Args:
        execution_id: The execution to show, as the address names it.
        static_prefix: Where ``STATIC_DIR`` is mounted.
        graphql_path: The GraphQL endpoint, for both HTTP and WebSocket.
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
  <title>Agent Orchestrator · suoritus</title>
  <link rel="icon" href="{static}/graphiql/favicon.svg">
  <link rel="stylesheet" href="{static}/execution/execution.css">
</head>
<body data-graphql-path="{escape(graphql_path)}"
  data-execution-id="{escape(execution_id)}">
  <header>
    <p class="back"><a href="/workflows/metrics">← Mittaristo
      <small lang="en">Dashboard</small></a></p>
    <h1>Suoritus <small lang="en">Execution</small>
      <code id="execution-id">{escape(execution_id)}</code></h1>
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
    <section class="summary" aria-labelledby="summary-title">
      <h2 id="summary-title">Yhteenveto <small lang="en">Summary</small></h2>
      <dl>
        <div><dt>Tila <small lang="en">Status</small></dt>
          <dd id="execution-status" class="badge">–</dd></div>
        <div><dt>Lähde <small lang="en">Source</small></dt>
          <dd id="execution-source">–</dd></div>
        <div><dt>Aloitettu <small lang="en">Started</small></dt>
          <dd id="execution-started">–</dd></div>
        <div><dt>Kesto <small lang="en">Duration</small></dt>
          <dd id="execution-duration">–</dd></div>
      </dl>
      <div class="actions">
        <button type="button" id="cancel" class="danger" hidden>Peru suoritus
          <small lang="en">Cancel execution</small></button>
        <span id="cancel-note" class="note"></span>
      </div>
      <p id="action-status" role="status" aria-live="polite"></p>
    </section>
    <section id="copilot" class="copilot" aria-labelledby="copilot-title" hidden>
      <h2 id="copilot-title">Avustajan komento
        <small lang="en">Copilot command</small></h2>
      <blockquote id="copilot-command"></blockquote>
      <p id="copilot-explanation"></p>
      <p id="copilot-meta" class="note"></p>
    </section>
    <section id="approval" class="approval" aria-labelledby="approval-title" hidden>
      <h2 id="approval-title">Odottaa hyväksyntää
        <small lang="en">Waiting for approval</small></h2>
      <p id="approval-what"></p>
      <p id="approval-details" class="details"></p>
      <p id="approval-meta" class="note"></p>
      <form id="approval-form">
        <input id="approval-comment" name="comment"
          placeholder="Perustelu · Comment" title="Perustelu · Comment">
        <button type="submit" id="approve">Hyväksy
          <small lang="en">Approve</small></button>
        <button type="button" id="reject" class="danger">Hylkää
          <small lang="en">Reject</small></button>
      </form>
      <p id="approval-note" class="note"></p>
    </section>
    <section class="graph" aria-labelledby="graph-title">
      <h2 id="graph-title">Työnkulku <small lang="en">Workflow</small></h2>
      <ul class="legend" id="legend"></ul>
      <div id="graph" class="graph-box" role="group"
        aria-label="Työnkulun kaavio · Workflow graph"></div>
    </section>
    <section aria-labelledby="timeline-title">
      <h2 id="timeline-title">Aikajana <small lang="en">Timeline of attempts</small>
      </h2>
      <div id="timeline" class="timeline"></div>
    </section>
    <section id="errors-section" aria-labelledby="errors-title" hidden>
      <h2 id="errors-title">Virheet <small lang="en">Errors</small></h2>
      <ul id="errors" class="errors"></ul>
    </section>
    <section aria-labelledby="steps-title">
      <h2 id="steps-title">Vaiheet <small lang="en">Steps</small></h2>
      <div id="steps" class="steps"></div>
    </section>
    <section aria-labelledby="result-title">
      <h2 id="result-title">Muuttujat ja tulos
        <small lang="en">Variables and result</small></h2>
      <div id="result" class="steps"></div>
    </section>
    <section aria-labelledby="events-title">
      <h2 id="events-title">Tapahtumat <small lang="en">Events</small>
        <span id="event-count"></span></h2>
      <div class="scroll">
        <table>
          <thead><tr>
            <th>#</th>
            <th>Aika <small lang="en">Time</small></th>
            <th>Tapahtuma <small lang="en">Event</small></th>
            <th>Vaihe <small lang="en">Step</small></th>
            <th>Yritys <small lang="en">Attempt</small></th>
            <th>Tiedot <small lang="en">Data</small></th>
          </tr></thead>
          <tbody id="events"><tr><td colspan="6">–</td></tr></tbody>
        </table>
      </div>
    </section>
  </main>
  <noscript>Sivu tarvitsee JavaScriptin. <small lang="en">The page needs
    JavaScript.</small></noscript>
{scripts}
</body>
</html>
"""
