// The live view of one execution. It reads `execution(id)` (graph, steps, stored
// events) over HTTP, then follows `executionEvents(executionId, afterSeq)` over
// graphql-transport-ws from the last event it read: the server sends the stored
// events after `afterSeq`, then live ones, with no gap or duplicate, and completes
// after the final event (DESIGN.md "Engine semantics"). Each event recolours its step
// at once; a short while later the execution is read again for outputs, durations and
// the approval. The API key is the dashboard's (this tab's sessionStorage); it travels
// only in the X-API-Key header and the connection_init payload, never in a URL.
"use strict";

const EXECUTION_ID = document.body.dataset.executionId;

const STEP_FIELDS = `stepId agentId status attempts startedAt completedAt durationMs error
  output inputs dependsOn parentStepId index`;
const EXECUTION_FIELDS = `id status templateId workflowId workflowVersion createdAt
  startedAt completedAt durationMs errorMessage variables result graph metadata
  copilot { command explanation planner language warnings referenceDate }
  steps(flat: true) { ${STEP_FIELDS} }`;
const APPROVAL_FIELDS = `approvals(executionId: $id) { stepId title details approverRole
  status requestedBy expiresAt decidedBy decidedAt comment }`;
const LOAD = `query Load($id: ID!) { viewer { keyId name role }
  execution(id: $id) { ${EXECUTION_FIELDS}
    events { seq type stepId agentId attempt at data } }
  ${APPROVAL_FIELDS} }`;
const REFRESH = `query Refresh($id: ID!) { execution(id: $id) { ${EXECUTION_FIELDS} }
  ${APPROVAL_FIELDS} }`;
const EVENTS = `subscription Events($id: ID!, $after: Int) {
  executionEvents(executionId: $id, afterSeq: $after) {
    seq type stepId agentId attempt at data } }`;
const CANCEL = `mutation Cancel($id: ID!) { cancelExecution(id: $id) { id status } }`;
const DECIDE = `mutation Decide($e: ID!, $s: String!, $a: Boolean!, $c: String) {
  decideApproval(executionId: $e, stepId: $s, approve: $a, comment: $c) { status } }`;

// Finnish first, English after the dot, as on the dashboard.
const MESSAGES = {
  ...COMMON_MESSAGES,
  NOT_FOUND: "Suoritusta ei löydy tältä avaimelta · No such execution for this key",
};
const FINAL_CLOSES = {
  4400: "Palvelin hylkäsi viestin · The server refused a message",
  4401: MESSAGES.UNAUTHENTICATED,
  4403: MESSAGES.UNAUTHENTICATED,
  4406: "Palvelin ei tue protokollaa · Subprotocol not supported",
  4429: "Liian monta yhteydenottoa · Too many initialisation requests",
};
const EXECUTION_STATUS = {
  PENDING: ["Jonossa", "Pending"],
  RUNNING: ["Käynnissä", "Running"],
  WAITING_APPROVAL: ["Odottaa hyväksyntää", "Waiting for approval"],
  SUCCEEDED: ["Onnistui", "Succeeded"],
  FAILED: ["Epäonnistui", "Failed"],
  CANCELLED: ["Peruttu", "Cancelled"],
};
const FINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const FINAL_STEP = new Set(["SUCCEEDED", "FAILED", "SKIPPED", "CANCELLED"]);
const EVENT_NAMES = {
  EXECUTION_STARTED: "Suoritus alkoi",
  STEP_STARTED: "Vaihe alkoi",
  STEP_PROGRESS: "Edistyminen",
  STEP_RETRYING: "Uusi yritys tulossa",
  STEP_SUCCEEDED: "Vaihe onnistui",
  STEP_FAILED: "Vaihe epäonnistui",
  STEP_SKIPPED: "Vaihe ohitettiin",
  APPROVAL_REQUESTED: "Hyväksyntää pyydetty",
  APPROVAL_DECIDED: "Hyväksyntä päätetty",
  EXECUTION_SUCCEEDED: "Suoritus onnistui",
  EXECUTION_FAILED: "Suoritus epäonnistui",
  EXECUTION_CANCELLED: "Suoritus peruttiin",
};
// What an event says of its step's status, before the step is read again.
const STEP_STATUS_OF = {
  STEP_STARTED: "RUNNING",
  STEP_RETRYING: "RETRYING",
  STEP_SUCCEEDED: "SUCCEEDED",
  STEP_FAILED: "FAILED",
  STEP_SKIPPED: "SKIPPED",
  APPROVAL_REQUESTED: "WAITING_APPROVAL",
};
const EXECUTION_STATUS_OF = {
  EXECUTION_STARTED: "RUNNING",
  EXECUTION_SUCCEEDED: "SUCCEEDED",
  EXECUTION_FAILED: "FAILED",
  EXECUTION_CANCELLED: "CANCELLED",
};
const ROLES = ["VIEWER", "OPERATOR", "ADMIN"];

const number = new Intl.NumberFormat("fi-FI", { maximumFractionDigits: 1 });
const duration = (ms) =>
  ms == null ? "–" : ms >= 1000 ? `${number.format(ms / 1000)} s` : `${Math.round(ms)} ms`;
const time = (iso) => (iso ? new Date(iso).toLocaleString("fi-FI") : "–");
const clock = (iso) =>
  new Date(iso).toLocaleTimeString("fi-FI", { hour: "2-digit", minute: "2-digit",
    second: "2-digit", fractionalSecondDigits: 1 });

/** Everything known of the execution; the page is drawn from it. */
const state = {
  viewer: null,
  execution: null,
  specs: [],
  steps: new Map(),
  events: [],
  lastSeq: 0,
  approvals: [],
  open: new Set(), // the step details a person opened
};
/** The live connection: one at a time; a stale socket's messages are ignored. */
let live = null;
/** The key the page was connected with: actions use it even while the socket is
 * down, so that what the API says of it is shown. */
let currentKey = null;
let ticker = null;

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "ok";
}

function actionStatus(text, isError = false) {
  $("action-status").textContent = text;
  $("action-status").className = isError ? "error" : "done";
}

function english(text) {
  return h("small", { lang: "en" }, text);
}

// --- the state --------------------------------------------------------------------

function parentOf(stepId) {
  const element = /^(.*)\[(\d+)\]$/.exec(stepId);
  if (element) return [element[1], Number(element[2])];
  const dot = stepId.lastIndexOf(".");
  return dot > 0 ? [stepId.slice(0, dot), null] : [null, null];
}

function takeExecution(execution, approvals) {
  state.execution = execution;
  state.specs = (execution.graph && execution.graph.steps) || [];
  state.steps = new Map(execution.steps.map((step) => [step.stepId, step]));
  state.approvals = approvals || [];
}

/** Apply one event: its step's status and the execution's, at once. */
function applyEvent(event) {
  if (event.seq <= state.lastSeq) return false; // seen (a reconnect's replay)
  state.lastSeq = event.seq;
  state.events.push(event);
  const execution = state.execution;
  if (EXECUTION_STATUS_OF[event.type] && execution && !FINAL.has(execution.status)) {
    execution.status = EXECUTION_STATUS_OF[event.type];
  }
  if (FINAL.has(EXECUTION_STATUS_OF[event.type]) && execution) {
    execution.completedAt = event.at;
    if (event.data && event.data.duration_ms != null) execution.durationMs = event.data.duration_ms;
    if (event.data && event.data.error) execution.errorMessage = event.data.error;
  }
  const stepStatus = STEP_STATUS_OF[event.type];
  if (event.stepId && stepStatus) {
    const [parent, index] = parentOf(event.stepId);
    const step = state.steps.get(event.stepId) || { stepId: event.stepId,
      agentId: event.agentId, attempts: 0, parentStepId: parent, index, dependsOn: [] };
    step.status = stepStatus;
    if (event.attempt) step.attempts = event.attempt;
    if (event.type === "STEP_STARTED" && !step.startedAt) step.startedAt = event.at;
    if (event.data && event.data.error) step.error = event.data.error;
    state.steps.set(event.stepId, step);
  }
  return true;
}

// --- drawing ----------------------------------------------------------------------

/** A status as a coloured badge; `names`: the execution's or the steps' words. */
function statusBadge(value, target = h("span"), names = window.executionGraph.STATUS) {
  const [fi, en] = names[value] || [value, value];
  target.className = `badge ${value}`;
  target.dataset.status = value;
  target.replaceChildren(`${fi} `, english(en));
  return target;
}

function showSummary() {
  const e = state.execution;
  statusBadge(e.status, $("execution-status"), EXECUTION_STATUS);
  const meta = e.metadata || {};
  const source = e.templateId
    ? `Pohja · Template ${e.templateId}`
    : e.workflowId
      ? `Tallennettu · Saved ${e.workflowId} v${e.workflowVersion}`
      : "Oma kaavio · Ad-hoc graph";
  const via = meta.source === "copilot" ? " · avustaja · copilot"
    : meta.source === "schedule" ? " · ajastus · schedule" : "";
  $("execution-source").textContent = source + via;
  $("execution-started").textContent = time(e.startedAt || e.createdAt);
  const running = !e.completedAt && e.startedAt;
  $("execution-duration").textContent = running
    ? `${duration(Date.now() - Date.parse(e.startedAt))} …`
    : duration(e.durationMs);
  showCancel();
}

function roleAtLeast(role) {
  const viewer = state.viewer;
  return viewer != null && ROLES.indexOf(viewer.role) >= ROLES.indexOf(role);
}

function showCancel() {
  const button = $("cancel");
  const open = !FINAL.has(state.execution.status);
  button.hidden = !open;
  if (!open) {
    $("cancel-note").textContent = "";
    armCancel(false);
    return;
  }
  const may = roleAtLeast("OPERATOR");
  button.disabled = !may || button.dataset.sending === "1";
  $("cancel-note").textContent = may ? ""
    : "Peruminen vaatii roolin OPERATOR · Cancelling needs role OPERATOR";
}

function showCopilot() {
  const copilot = state.execution.copilot;
  $("copilot").hidden = !copilot;
  if (!copilot) return;
  $("copilot-command").textContent = copilot.command;
  $("copilot-explanation").textContent = copilot.explanation;
  const parts = [`Suunnittelija · Planner: ${copilot.planner || "–"}`];
  if (copilot.language) parts.push(`kieli · language: ${copilot.language}`);
  if (copilot.referenceDate) parts.push(`viitepäivä · reference date: ${copilot.referenceDate}`);
  parts.push(...copilot.warnings.map((w) => `⚠ ${w}`));
  $("copilot-meta").textContent = parts.join(" · ");
}

function pendingApproval() {
  return state.approvals.find((a) => a.status === "PENDING"
    && (state.steps.get(a.stepId) || {}).status === "WAITING_APPROVAL") || null;
}

function showApproval() {
  const approval = pendingApproval();
  $("approval").hidden = !approval;
  if (!approval) return;
  $("approval").dataset.stepId = approval.stepId;
  $("approval-what").replaceChildren(h("strong", {}, approval.title), ` (${approval.stepId})`);
  $("approval-details").textContent = approval.details || "";
  $("approval-meta").textContent =
    `Päättäjän rooli vähintään · Approver role at least: ${approval.approverRole} · `
    + `voimassa · expires ${time(approval.expiresAt)}`;
  const viewer = state.viewer || {};
  let note = "";
  if (viewer.keyId && viewer.keyId === approval.requestedBy) {
    note = "Tämä avain käynnisti suorituksen: toisen avaimen on päätettävä (neljän silmän "
      + "periaate) · This key started the execution: another key must decide (four eyes)";
  } else if (!roleAtLeast(approval.approverRole)) {
    note = `Päätös vaatii roolin ${approval.approverRole} · Deciding needs role ${approval.approverRole}`;
  }
  const sending = $("approval-form").dataset.sending === "1";
  $("approve").disabled = Boolean(note) || sending;
  $("reject").disabled = Boolean(note) || sending;
  $("approval-comment").disabled = Boolean(note);
  $("approval-note").textContent = note;
}

function showGraph() {
  // Drawn anew only when a box would change (a redraw loses the keyboard focus).
  const signature = JSON.stringify([state.specs, [...state.steps.values()].map((s) =>
    [s.stepId, s.status, s.attempts, s.dependsOn])]);
  if (signature === state.graphDrawn) return;
  state.graphDrawn = signature;
  window.executionGraph.draw($("graph"), state, openStep);
}

function showLegend() {
  const items = Object.entries(window.executionGraph.STATUS).map(([code, [fi, en]]) =>
    h("li", { className: code }, h("span", { className: "swatch", "aria-hidden": "true" }),
      `${fi} `, english(en)));
  $("legend").replaceChildren(...items);
}

/** A JSON value as nested, collapsible lists (small objects open). */
function jsonTree(value, depth = 0) {
  if (value === null || typeof value !== "object") {
    const kind = value === null ? "null" : typeof value;
    return h("span", { className: `json-${kind}` }, JSON.stringify(value));
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (!entries.length) return h("span", { className: "json-empty" }, Array.isArray(value) ? "[]" : "{}");
  const list = h("ul", { className: "json" }, ...entries.map(([k, v]) =>
    h("li", {}, h("span", { className: "json-key" }, `${k}: `), jsonTree(v, depth + 1))));
  const label = Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`;
  return h("details", { className: "json-node", open: depth < 2 && entries.length <= 8 },
    h("summary", {}, label), list);
}

function jsonBlock(title, value) {
  return h("div", { className: "json-block" }, h("h4", {}, ...title),
    value == null ? h("span", { className: "note" }, "–") : jsonTree(value));
}

function stepCard(step, spec) {
  const id = step.stepId;
  const kids = [...state.steps.values()].filter((s) => s.parentStepId === id)
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const summary = h("summary", {}, statusBadge(step.status), " ",
    h("code", {}, id), ` ${step.agentId || ""}`,
    h("span", { className: "meta" }, ` · ${step.attempts} `, english("attempts"),
      ` · ${duration(step.durationMs)}`));
  const body = [];
  if (spec && step.dependsOn && step.dependsOn.length) {
    body.push(h("p", {}, "Odottaa · Waits for: ", h("code", {}, step.dependsOn.join(", "))));
  }
  if (step.error) body.push(h("p", { className: "error" }, `Virhe · Error: ${step.error}`));
  body.push(h("p", { className: "meta" }, `Alkoi · Started ${time(step.startedAt)} · `
    + `päättyi · ended ${time(step.completedAt)}`));
  const forEach = spec && spec.for_each != null;
  if (!forEach) {
    body.push(h("div", { className: "io" },
      jsonBlock(["Syötteet ", english("Inputs")], step.inputs),
      jsonBlock(["Tulos ", english("Output")], step.output)));
  } else {
    body.push(h("p", { className: "meta" }, `Lista · List: ${JSON.stringify(spec.for_each)}`));
  }
  if (kids.length) {
    body.push(h("div", { className: "children" }, ...kids.slice(0, 200).map((k) => stepCard(k))));
  }
  const card = h("details", { className: `step ${step.status}`, id: `step-${id}`,
    "data-step-id": id, open: state.open.has(id) }, summary, ...body);
  card.addEventListener("toggle", () => {
    if (card.open) state.open.add(id);
    else state.open.delete(id);
  });
  return card;
}

function showSteps() {
  // Drawn anew only when something in them changed: a person may be reading an
  // opened JSON tree while events arrive.
  const signature = JSON.stringify([[...state.steps.values()], state.execution.result]);
  if (signature === state.stepsDrawn) return;
  state.stepsDrawn = signature;
  const cards = state.specs.map((spec) => {
    const step = state.steps.get(spec.id) || { stepId: spec.id, agentId: spec.agent,
      status: "PENDING", attempts: 0 };
    return stepCard(step, spec);
  });
  $("steps").replaceChildren(...cards);
  const e = state.execution;
  $("result").replaceChildren(
    jsonBlock(["Muuttujat ", english("Variables")], e.variables),
    jsonBlock(["Tulos ", english("Result")], e.result));
}

function openStep(stepId) {
  let id = stepId;
  while (id) {
    state.open.add(id);
    const card = document.getElementById(`step-${id}`);
    if (card) card.open = true;
    id = parentOf(id)[0];
  }
  showSteps();
  const card = document.getElementById(`step-${stepId}`);
  if (card) card.scrollIntoView({ behavior: "smooth", block: "start" });
}

function showErrors() {
  const items = [];
  const e = state.execution;
  if (e.errorMessage) items.push(h("li", {}, h("strong", {}, "Suoritus · Execution: "), e.errorMessage));
  for (const event of state.events) {
    if (event.type === "STEP_RETRYING" || event.type === "STEP_FAILED") {
      const retry = event.type === "STEP_RETRYING";
      items.push(h("li", { className: retry ? "retry" : "" },
        h("code", {}, event.stepId), ` · ${event.attempt}. yritys · attempt ${event.attempt}: `,
        event.data.error || "?",
        retry ? h("span", { className: "meta" }, ` · uusi yritys ${duration(event.data.delay_ms)}`
          + ` kuluttua · retried after ${duration(event.data.delay_ms)}`) : null));
    }
  }
  $("errors-section").hidden = !items.length;
  $("errors").replaceChildren(...items);
}

function eventRow(event) {
  const data = event.data && Object.keys(event.data).length ? jsonTree(event.data, 2) : "–";
  return h("tr", { "data-seq": event.seq, className: event.type },
    h("td", {}, String(event.seq)), h("td", {}, clock(event.at)),
    h("td", {}, `${EVENT_NAMES[event.type] || event.type} `, english(event.type)),
    h("td", {}, event.stepId ? h("code", {}, event.stepId) : "–"),
    h("td", {}, event.attempt == null ? "–" : String(event.attempt)),
    h("td", {}, data));
}

/** The newest events first; a long run's oldest are left out of the table. */
const EVENT_ROWS = 500;

function showEvents() {
  const shown = $("events").querySelectorAll("tr[data-seq]");
  const newest = shown.length ? Number(shown[0].dataset.seq) : 0;
  const fresh = state.events.filter((e) => e.seq > newest);
  if (!shown.length || fresh.length > EVENT_ROWS) {
    const rows = state.events.slice(-EVENT_ROWS).reverse().map(eventRow);
    $("events").replaceChildren(...(rows.length ? rows
      : [h("tr", {}, h("td", { colspan: "6" }, "Ei tapahtumia · No events"))]));
  } else if (fresh.length) {
    // Only the new ones are added: the rows a person opened stay as they are.
    $("events").prepend(...fresh.reverse().map(eventRow));
    const rows = $("events").querySelectorAll("tr[data-seq]");
    for (let i = EVENT_ROWS; i < rows.length; i++) rows[i].remove();
  }
  const left = Math.max(0, state.events.length - EVENT_ROWS);
  $("event-count").textContent = left
    ? `(${state.events.length}; vanhimmat ${left} piilotettu · oldest ${left} hidden)`
    : `(${state.events.length})`;
}

/** Each step's attempts, backoff waits and approval waits on one time axis. */
function timelineSegments() {
  const open = new Map();
  const rows = new Map();
  const row = (id) => rows.get(id) || rows.set(id, []).get(id);
  const close = (id, at, kind) => {
    const segment = open.get(id);
    if (!segment) return;
    segment.end = at;
    if (kind) segment.kind = kind;
    open.delete(id);
  };
  const start = (id, at, kind, attempt) => {
    close(id, at);
    const segment = { start: at, end: null, kind, attempt };
    row(id).push(segment);
    open.set(id, segment);
  };
  let ended = null;
  for (const e of state.events) {
    const at = Date.parse(e.at);
    const id = e.stepId;
    switch (e.type) {
      case "STEP_STARTED": start(id, at, "RUNNING", e.attempt); break;
      case "STEP_RETRYING":
        close(id, at, "FAILED");
        start(id, at, "BACKOFF", e.attempt);
        break;
      case "APPROVAL_REQUESTED": start(id, at, "WAITING_APPROVAL", e.attempt); break;
      case "APPROVAL_DECIDED": {
        // The wait stays a wait on the timeline, marked with its decision.
        const waiting = open.get(id);
        if (waiting) waiting.decision = e.data && e.data.approved ? "approved" : "rejected";
        close(id, at);
        break;
      }
      case "STEP_SUCCEEDED": close(id, at, "SUCCEEDED"); break;
      case "STEP_FAILED": close(id, at, "FAILED"); break;
      case "STEP_SKIPPED": row(id).push({ start: at, end: at, kind: "SKIPPED" }); break;
      case "EXECUTION_SUCCEEDED": case "EXECUTION_FAILED": case "EXECUTION_CANCELLED":
        ended = at;
        for (const key of [...open.keys()]) close(key, at, "CANCELLED");
        break;
      default: break;
    }
  }
  return { rows, ended };
}

const SEGMENT_NAMES = {
  RUNNING: "käynnissä · running",
  SUCCEEDED: "onnistui · succeeded",
  FAILED: "epäonnistui · failed",
  CANCELLED: "peruttu · cancelled",
  BACKOFF: "odottaa uutta yritystä · waiting to retry",
  WAITING_APPROVAL: "odottaa hyväksyntää · waiting for approval",
  SKIPPED: "ohitettu · skipped",
};

const DECISIONS = { approved: "hyväksytty · approved", rejected: "hylätty · rejected" };

/** Lines of for-each elements and inner steps on the timeline at most. */
const TIMELINE_NESTED = 100;

function showTimeline() {
  const { rows, ended } = timelineSegments();
  const first = state.events.length ? Date.parse(state.events[0].at) : Date.now();
  const last = ended || Date.now();
  const span = Math.max(last - first, 1);
  // The graph's steps first, in graph order; elements and inner steps after each.
  const sorted = [...rows.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, "fi", { numeric: true }));
  // Every step of the graph has its line; of the elements and inner steps, the first
  // TIMELINE_NESTED (a for-each over a month's receipts has hundreds).
  const nested = sorted.filter((id) => parentOf(id)[0] !== null);
  const kept = new Set(nested.slice(0, TIMELINE_NESTED));
  const order = sorted.filter((id) => parentOf(id)[0] === null || kept.has(id));
  const hidden = nested.length - kept.size;
  const lines = order.map((id) => {
    const track = h("div", { className: "track" });
    const segments = rows.get(id);
    segments.forEach((s) => {
      const end = s.end ?? last;
      const decided = s.decision ? ` ${s.decision}` : "";
      const bar = h("span", { className: `segment ${s.kind}${decided}${s.end == null ? " open" : ""}`,
        title: `${id}${s.attempt ? ` · ${s.attempt}. yritys · attempt ${s.attempt}` : ""}: `
          + `${SEGMENT_NAMES[s.kind] || s.kind}, ${duration(end - s.start)}`
          + (s.decision ? ` · ${DECISIONS[s.decision]}` : "") });
      // Positions through the CSSOM: allowed by the page's style-src 'self'.
      bar.style.left = `${((s.start - first) / span) * 100}%`;
      bar.style.width = `max(3px, ${((end - s.start) / span) * 100}%)`;
      track.append(bar);
    });
    const attempts = new Set(segments.filter((s) => s.attempt).map((s) => s.attempt)).size;
    const [parent] = parentOf(id);
    return h("div", { className: `line${parent ? " nested" : ""}`, "data-step-id": id },
      h("span", { className: "label", title: id }, h("code", {}, id),
        h("span", { className: "meta" }, ` ${attempts}×`)), track);
  });
  const axis = h("div", { className: "axis" }, h("span", {}, clock(new Date(first).toISOString())),
    h("span", {}, `${duration(span)}${ended ? "" : " …"}`));
  if (hidden > 0) {
    lines.push(h("p", { className: "note", id: "timeline-hidden" },
      `+${hidden} alkiota tai alivaihetta lisää (vaiheluettelossa) · `
      + `${hidden} more elements or inner steps (in the list of steps)`));
  }
  $("timeline").replaceChildren(...(lines.length ? [...lines, axis]
    : [h("p", { className: "note" }, "Ei vielä yrityksiä · No attempts yet")]));
}

function rank(stepId) {
  const top = stepId.split(/[.[]/)[0];
  const i = state.specs.findIndex((s) => s.id === top);
  return (i < 0 ? state.specs.length : i) * 2 + (stepId === top ? 0 : 1);
}

function showAll() {
  if (!state.execution) return;
  showSummary();
  showCopilot();
  showApproval();
  showGraph();
  showTimeline();
  showErrors();
  showSteps();
  showEvents();
  if (FINAL.has(state.execution.status)) {
    clearInterval(ticker);
    ticker = null;
  } else if (!ticker) {
    // Durations and open timeline bars grow while it runs.
    ticker = setInterval(() => {
      if (!state.execution || FINAL.has(state.execution.status)) return;
      showSummary();
      showTimeline();
    }, 1000);
  }
}

// --- talking to the server ---------------------------------------------------------

async function load(conn) {
  const data = await query(conn.key, LOAD, { id: EXECUTION_ID });
  if (live !== conn) return;
  state.viewer = data.viewer;
  state.loadedWith = conn.key;
  state.events = data.execution.events;
  state.lastSeq = state.events.reduce((m, e) => Math.max(m, e.seq), 0);
  takeExecution(data.execution, data.approvals);
  showAll();
}

/** Step runs above which the execution is read again at most once a second. */
const LARGE_EXECUTION = 100;

/** Read the execution again soon (several events in a row make one reading). */
function refreshSoon(conn) {
  if (conn.refreshTimer || conn.refreshing) {
    conn.refreshAgain = true;
    return;
  }
  // A large execution (a for-each over a month's receipts) is read at most once a
  // second: events alone keep its statuses current meanwhile.
  const wait = state.steps.size > LARGE_EXECUTION ? 1000 : 150;
  conn.refreshTimer = setTimeout(() => refresh(conn), wait);
}

async function refresh(conn) {
  conn.refreshTimer = null;
  conn.refreshing = true;
  conn.refreshAgain = false;
  const seenBefore = state.lastSeq;
  try {
    const data = await query(conn.key, REFRESH, { id: EXECUTION_ID });
    if (live !== conn) return;
    takeExecution(data.execution, data.approvals);
    // Events that came while reading may be newer than what was read (each of them
    // asks for another reading, which settles it).
    for (const event of state.events) if (event.seq > seenBefore) reapply(event);
    showAll();
  } catch (error) {
    if (live === conn) status(error.message, true);
  } finally {
    conn.refreshing = false;
    if (conn.refreshAgain && live === conn) refreshSoon(conn);
  }
}

/** An event's status over a reading's, unless the reading's is final (final states
 * never change back). */
function reapply(event) {
  const stepStatus = STEP_STATUS_OF[event.type];
  const step = event.stepId && state.steps.get(event.stepId);
  if (step && stepStatus && !FINAL_STEP.has(step.status)) step.status = stepStatus;
  const execution = EXECUTION_STATUS_OF[event.type];
  if (execution && !FINAL.has(state.execution.status)) state.execution.status = execution;
}

function socketUrl() {
  const url = new URL(GRAPHQL_PATH, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function connect(key, attempt = 0) {
  disconnect();
  currentKey = key;
  const conn = { key, attempt, socket: new WebSocket(socketUrl(), "graphql-transport-ws") };
  live = conn;
  status("Yhdistetään… · Connecting…");
  const send = (message) => conn.socket.send(JSON.stringify(message));
  conn.socket.onopen = () => send({ type: "connection_init", payload: { "X-API-Key": key } });
  conn.socket.onmessage = async (event) => {
    if (live !== conn) return;
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "connection_ack":
        conn.attempt = 0;
        try {
          if (!state.execution || state.loadedWith !== key) {
            await load(conn);
          } else {
            refreshSoon(conn); // a reconnect: the subscription resumes after lastSeq
          }
        } catch (error) {
          if (live === conn) status(error.message, true);
          return;
        }
        if (live !== conn) return;
        if (FINAL.has(state.execution.status)) {
          status("Suoritus on päättynyt · The execution has ended");
        } else {
          conn.subscription = `events-${state.lastSeq}`;
          send({ id: conn.subscription, type: "subscribe", payload: { query: EVENTS,
            variables: { id: EXECUTION_ID, after: state.lastSeq } } });
          status("Seurataan livenä · Following live");
        }
        break;
      case "next":
        if (message.id !== conn.subscription) break;
        if (message.payload.errors) {
          status(errorText(message.payload.errors), true);
        } else if (applyEvent(message.payload.data.executionEvents)) {
          showAll();
          refreshSoon(conn);
        }
        break;
      case "error":
        if (message.id === conn.subscription) status(errorText(message.payload), true);
        break;
      case "ping":
        send({ type: "pong" });
        break;
      case "complete":
        if (message.id === conn.subscription) {
          conn.subscription = null;
          status("Suoritus on päättynyt · The execution has ended");
          refreshSoon(conn);
        }
        break;
    }
  };
  conn.socket.onclose = (event) => {
    if (live !== conn) return;
    const final = FINAL_CLOSES[event.code];
    if (final) {
      status(final, true);
      live = null;
      return;
    }
    if (state.execution && FINAL.has(state.execution.status) && !conn.subscription) return;
    // Anything else (a restart, a network break) is retried with backoff and jitter;
    // the new subscription starts after the last event seen.
    const delay = Math.min(30, 2 ** conn.attempt) * (0.5 + Math.random() / 2);
    const seconds = Math.ceil(delay);
    status(`Yhteys katkesi, uusi yritys ${seconds} s kuluttua · Retrying in ${seconds} s`, true);
    conn.timer = setTimeout(() => live === conn && connect(key, conn.attempt + 1), delay * 1000);
  };
}

function disconnect() {
  const conn = live;
  live = null;
  if (!conn) return;
  clearTimeout(conn.timer);
  clearTimeout(conn.refreshTimer);
  if (conn.socket.readyState <= WebSocket.OPEN) conn.socket.close(1000);
}

// --- actions -----------------------------------------------------------------------

let cancelTimer = null;

function armCancel(armed) {
  const button = $("cancel");
  clearTimeout(cancelTimer);
  button.dataset.armed = armed ? "1" : "";
  button.replaceChildren(...(armed
    ? ["Vahvista peruminen ", english("Confirm cancel")]
    : ["Peru suoritus ", english("Cancel execution")]));
  // A second click confirms; after five seconds the first is forgotten.
  if (armed) cancelTimer = setTimeout(() => armCancel(false), 5000);
}

/** The key for an action, or null (said on the page) when there is none. */
function actionKey() {
  if (!currentKey) actionStatus("Anna API-avain · Enter an API key", true);
  return currentKey;
}

/** After an action: read the execution again if connected. */
function afterAction() {
  if (live) refreshSoon(live);
}

$("cancel").addEventListener("click", async () => {
  const key = actionKey();
  if (!key) return;
  const button = $("cancel");
  if (button.dataset.armed !== "1") {
    armCancel(true);
    actionStatus("Paina uudelleen perumiseksi · Click again to cancel");
    return;
  }
  armCancel(false);
  button.dataset.sending = "1";
  button.disabled = true;
  try {
    await query(key, CANCEL, { id: EXECUTION_ID });
    actionStatus("Peruminen pyydetty · Cancellation requested");
  } catch (error) {
    actionStatus(error.message, true);
  } finally {
    button.dataset.sending = "";
    if (state.execution) showCancel();
  }
  afterAction();
});

async function decide(approve) {
  const key = actionKey();
  const approval = pendingApproval();
  if (!key || !approval) return;
  const form = $("approval-form");
  form.dataset.sending = "1";
  showApproval();
  const comment = $("approval-comment").value.trim() || null;
  try {
    await query(key, DECIDE, { e: EXECUTION_ID, s: approval.stepId, a: approve, c: comment });
    actionStatus(approve ? "Hyväksytty · Approved" : "Hylätty · Rejected");
    $("approval-comment").value = "";
  } catch (error) {
    actionStatus(error.message, true);
  } finally {
    form.dataset.sending = "";
    showApproval();
  }
  afterAction();
}

$("approval-form").addEventListener("submit", (event) => {
  event.preventDefault();
  decide(true);
});
$("reject").addEventListener("click", () => decide(false));

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) {
    status("Anna API-avain · Enter an API key", true);
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  connect(key);
});

$("forget").addEventListener("click", () => {
  disconnect();
  currentKey = null;
  sessionStorage.removeItem(KEY_STORAGE);
  $("key").value = "";
  status("Avain unohdettu · Key forgotten");
});

showLegend();
const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) {
  $("key").value = saved;
  connect(saved);
}
