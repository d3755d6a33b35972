// The live metrics dashboard: `metricsUpdates` over graphql-transport-ws (the
// protocol of the graphql-ws library, its PROTOCOL.md), with the series of the chosen
// window for the charts (charts.js), and recent executions over HTTP. The API key
// stays in this tab's sessionStorage and travels only in the connection_init payload
// and the X-API-Key header (common.js), never in a URL.
"use strict";

const WINDOW_STORAGE = "agentOrchestrator.window";
const METRICS = `subscription Metrics($hoursBack: Int!, $window: String!) {
  metricsUpdates(hoursBack: $hoursBack) {
  totalExecutions successRate avgDurationMs p95DurationMs errorRate
  agents { agentId executions successRate avgDurationMs }
  series(window: $window) { window intervalSeconds since until queued running
    waitingApproval agents { agentId succeeded failed }
    buckets { start pending running waitingApproval succeeded failed cancelled
      p50DurationMs p95DurationMs } } } }`;
// The windows of the selector: the cards' hoursBack and the heading above them.
const WINDOWS = {
  "1h": [1, "Viimeinen tunti", "Last hour"],
  "24h": [24, "Viimeiset 24 tuntia", "Last 24 hours"],
  "7d": [168, "Viimeiset 7 päivää", "Last 7 days"],
  "30d": [720, "Viimeiset 30 päivää", "Last 30 days"],
};
const EXECUTIONS = `{ executions(first: 20) { edges { node {
  id status templateId startedAt durationMs } } } }`;
const REVIEW = `{ reviewQueue(first: 20) { edges { node {
  id merchant date total warnings problems canBook sourceFile
  vatLines { rate net vat gross } } } } }`;
const CORRECT = `mutation Correct($id: ID!, $input: DocumentCorrectionInput!) {
  correctDocument(id: $id, input: $input) { id canBook problems } }`;
const BOOK = `mutation Book($id: ID!) { bookDocument(id: $id) { id status } }`;
const APPROVALS = `{ approvals(status: PENDING) {
  executionId stepId title details approverRole requestedBy expiresAt } }`;
const DECIDE = `mutation Decide($e: ID!, $s: String!, $a: Boolean!, $c: String) {
  decideApproval(executionId: $e, stepId: $s, approve: $a, comment: $c) { status } }`;

// Finnish first, English after the dot, as everywhere on the page.
const MESSAGES = { ...COMMON_MESSAGES };
// Close codes after which reconnecting cannot help (graphql-transport-ws and Strawberry).
const FINAL_CLOSES = {
  4400: "Palvelin hylkäsi viestin · The server refused a message",
  4401: MESSAGES.UNAUTHENTICATED,
  4403: MESSAGES.UNAUTHENTICATED,
  4406: "Palvelin ei tue protokollaa · Subprotocol not supported",
  4429: "Liian monta yhteydenottoa · Too many initialisation requests",
};

const STATUS = {
  PENDING: "Jonossa",
  RUNNING: "Käynnissä",
  WAITING_APPROVAL: "Odottaa hyväksyntää",
  SUCCEEDED: "Onnistui",
  FAILED: "Epäonnistui",
  CANCELLED: "Peruttu",
};

const percent = new Intl.NumberFormat("fi-FI", { style: "percent", maximumFractionDigits: 1 });
const number = new Intl.NumberFormat("fi-FI", { maximumFractionDigits: 2 });
const pct = (x) => (x == null ? "–" : percent.format(x));
const duration = (x) =>
  x == null ? "–" : x >= 1000 ? `${number.format(x / 1000)} s` : `${Math.round(x)} ms`;
const time = (iso) => (iso ? new Date(iso).toLocaleString("fi-FI") : "–");

/** The live connection: one at a time; a stale socket's events are ignored. */
let live = null;
/** Subscriptions made on the connections so far (each gets a new id). */
let subscriptions = 0;

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "ok";
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(...cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function showMetrics(m) {
  $("total").textContent = number.format(m.totalExecutions);
  $("success").textContent = pct(m.successRate);
  $("errors").textContent = pct(m.errorRate);
  $("avg").textContent = duration(m.avgDurationMs);
  $("p95").textContent = duration(m.p95DurationMs);
  const rows = m.agents.map((a) =>
    row(cell(a.agentId), cell(number.format(a.executions)), cell(pct(a.successRate)),
      cell(duration(a.avgDurationMs))));
  $("agents").replaceChildren(...(rows.length ? rows : [row(emptyCell(4))]));
}

function emptyCell(span) {
  const td = cell("Ei suorituksia · No executions");
  td.colSpan = span;
  return td;
}

function statusCell(value) {
  const td = cell(`${STATUS[value] || value} `, `state ${value}`);
  const english = document.createElement("small");
  english.lang = "en";
  english.textContent = value;
  td.append(english);
  return td;
}

function showExecutions(edges) {
  const rows = edges.map(({ node }) =>
    row(cell(node.id.slice(0, 8)), statusCell(node.status), cell(node.templateId || "–"),
      cell(time(node.startedAt)), cell(duration(node.durationMs))));
  rows.forEach((tr, i) => {
    // The id opens the execution's live view (web/execution_view.py) in this tab,
    // which keeps the key in its sessionStorage.
    const link = document.createElement("a");
    link.href = `/workflows/executions/${encodeURIComponent(edges[i].node.id)}`;
    link.textContent = tr.firstChild.textContent;
    link.title = edges[i].node.id;
    tr.firstChild.replaceChildren(link);
  });
  $("executions").replaceChildren(...(rows.length ? rows : [row(emptyCell(5))]));
}

async function refreshExecutions(conn) {
  if (conn.loading) return;
  conn.loading = true;
  try {
    const data = await query(conn.key, EXECUTIONS);
    if (live === conn) showExecutions(data.executions.edges);
  } catch (error) {
    if (live === conn) status(error.message, true);
  } finally {
    conn.loading = false;
  }
}

function reviewStatus(text, isError = false) {
  $("review-status").textContent = text;
  $("review-status").className = isError ? "error" : "";
}

/** A document's small form: its total and one VAT line, then Correct and Book. */
function reviewForm(conn, node) {
  const form = document.createElement("form");
  form.className = "review";
  const line = node.vatLines[0] || {};
  const fields = [["total", "Summa · Total", node.total], ["rate", "ALV % · VAT %", line.rate],
    ["net", "Veroton · Net", line.net], ["vat", "Vero · VAT", line.vat],
    ["gross", "Verollinen · Gross", line.gross]];
  for (const [name, label, value] of fields) {
    const input = document.createElement("input");
    input.name = name;
    input.placeholder = label;
    input.title = label;
    input.inputMode = "decimal";
    input.value = value == null ? "" : Number(value).toFixed(name === "rate" ? 1 : 2);
    form.append(input);
  }
  const correct = document.createElement("button");
  correct.type = "submit";
  correct.textContent = "Korjaa · Correct";
  const book = document.createElement("button");
  book.type = "button";
  book.textContent = "Kirjaa · Book";
  book.disabled = !node.canBook;
  book.title = node.problems.join("\n");
  form.append(correct, book);
  form.addEventListener("input", () => form.classList.add("edited"));
  const run = async (text, variables, done) => {
    try {
      await query(conn.key, text, variables);
    } catch (error) {
      // The typed values stay in the form, to be put right and sent again.
      reviewStatus(error.message, true);
      return;
    }
    reviewStatus(done);
    refreshReview(conn);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = (name) => form.elements[name].value.trim().replace(",", ".") || null;
    const input = { total: value("total"),
      vatLines: [{ rate: value("rate") || "", net: value("net"), vat: value("vat"), gross: value("gross") }] };
    run(CORRECT, { id: node.id, input }, "Korjattu · Corrected");
  });
  book.addEventListener("click", () => run(BOOK, { id: node.id }, "Kirjattu · Booked"));
  return form;
}

/** Whether a correction form has focus or holds typed, unsent values. */
function reviewBeingEdited() {
  const review = $("review");
  return review.contains(document.activeElement) || review.querySelector("form.edited") !== null;
}

function showReview(conn, edges) {
  const rows = edges.map(({ node }) => {
    const tr = row(cell(node.merchant || "–"), cell(node.date || "–"),
      cell(node.total == null ? "–" : `${number.format(node.total)} €`),
      cell([...node.warnings, ...node.problems].join(" · ")), cell(""));
    tr.lastChild.append(reviewForm(conn, node));
    tr.title = node.sourceFile || node.id;
    return tr;
  });
  const none = cell("Ei tarkistettavaa · Nothing to review");
  none.colSpan = 5;
  $("review").replaceChildren(...(rows.length ? rows : [row(none)]));
}

/** Show the review queue anew; a periodic refresh (`periodic`) leaves the rows alone
 * while a person types a correction, also when the typing began during the query. */
async function refreshReview(conn, periodic = false) {
  if (periodic && reviewBeingEdited()) return;
  try {
    const data = await query(conn.key, REVIEW);
    if (live !== conn || (periodic && reviewBeingEdited())) return;
    showReview(conn, data.reviewQueue.edges);
  } catch (error) {
    // A viewer's key may not read the queue: said here, the rest of the page works.
    if (live === conn) reviewStatus(error.message, true);
  }
}

function approvalsStatus(text, isError = false) {
  $("approvals-status").textContent = text;
  $("approvals-status").className = isError ? "error" : "";
}

/** A waiting approval's small form: a comment, then Approve or Reject. */
function approvalForm(conn, node) {
  const form = document.createElement("form");
  form.className = "approval";
  const comment = document.createElement("input");
  comment.name = "comment";
  comment.placeholder = "Perustelu · Comment";
  comment.title = comment.placeholder;
  const approve = document.createElement("button");
  approve.type = "submit";
  approve.textContent = "Hyväksy · Approve";
  const reject = document.createElement("button");
  reject.type = "button";
  reject.textContent = "Hylkää · Reject";
  form.append(comment, approve, reject);
  const decide = async (yes) => {
    const variables = { e: node.executionId, s: node.stepId, a: yes,
      c: comment.value.trim() || null };
    try {
      await query(conn.key, DECIDE, variables);
      approvalsStatus(yes ? "Hyväksytty · Approved" : "Hylätty · Rejected");
    } catch (error) {
      approvalsStatus(error.message, true);
    }
    refreshApprovals(conn);
    refreshExecutions(conn);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    decide(true);
  });
  reject.addEventListener("click", () => decide(false));
  return form;
}

function showApprovals(conn, nodes) {
  const rows = nodes.map((node) => {
    const tr = row(cell(node.title), cell(`${node.executionId} · ${node.stepId}`),
      cell(`${node.approverRole}+`), cell(time(node.expiresAt)), cell(""));
    tr.lastChild.append(approvalForm(conn, node));
    tr.title = node.details || node.title;
    return tr;
  });
  const none = cell("Ei odottavia hyväksyntöjä · Nothing waits for approval");
  none.colSpan = 5;
  $("approvals").replaceChildren(...(rows.length ? rows : [row(none)]));
}

async function refreshApprovals(conn) {
  try {
    const data = await query(conn.key, APPROVALS);
    if (live === conn) showApprovals(conn, data.approvals);
  } catch (error) {
    if (live === conn) approvalsStatus(error.message, true);
  }
}

// --- Schedules ("Ajastukset") -------------------------------------------------------

const SCHEDULES = `{ schedules { id name cron timezone enabled nextRunAt lastRunAt
  templateId workflowId } }`;
const PAUSE = `mutation Pause($id: ID!) { pauseSchedule(id: $id) { id enabled } }`;
const RESUME = `mutation Resume($id: ID!) { resumeSchedule(id: $id) { id enabled } }`;

function schedulesStatus(text, isError = false) {
  $("schedules-status").textContent = text;
  $("schedules-status").className = isError ? "error" : "";
}

function showSchedules(conn, schedules) {
  const rows = schedules.map((s) => {
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.textContent = s.enabled ? "Keskeytä · Pause" : "Jatka · Resume";
    toggle.addEventListener("click", async () => {
      try {
        await query(conn.key, s.enabled ? PAUSE : RESUME, { id: s.id });
        schedulesStatus(s.enabled ? "Keskeytetty · Paused" : "Jatkettu · Resumed");
      } catch (error) {
        schedulesStatus(error.message, true);
      }
      refreshSchedules(conn);
    });
    const state = cell(s.enabled ? "Käytössä " : "Keskeytetty ");
    const english = document.createElement("small");
    english.lang = "en";
    english.textContent = s.enabled ? "Enabled" : "Paused";
    state.append(english, " ", toggle);
    const tr = row(cell(s.name), cell(`${s.cron} (${s.timezone})`), cell(time(s.nextRunAt)),
      cell(time(s.lastRunAt)), state);
    tr.title = s.templateId || s.workflowId || s.id;
    return tr;
  });
  const none = cell("Ei ajastuksia · No schedules");
  none.colSpan = 5;
  $("schedules").replaceChildren(...(rows.length ? rows : [row(none)]));
}

async function refreshSchedules(conn) {
  try {
    const data = await query(conn.key, SCHEDULES);
    if (live === conn) showSchedules(conn, data.schedules);
  } catch (error) {
    if (live === conn) schedulesStatus(error.message, true);
  }
}

function socketUrl() {
  const url = new URL(GRAPHQL_PATH, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function connect(key, attempt = 0) {
  disconnect();
  const conn = { key, attempt, socket: new WebSocket(socketUrl(), "graphql-transport-ws") };
  live = conn;
  status("Yhdistetään… · Connecting…");
  const send = (message) => conn.socket.send(JSON.stringify(message));
  conn.socket.onopen = () => send({ type: "connection_init", payload: { "X-API-Key": key } });
  conn.socket.onmessage = (event) => {
    if (live !== conn) return;
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "connection_ack":
        conn.attempt = 0;
        status("Yhdistetty, odotetaan lukuja… · Connected, waiting for figures…");
        conn.acked = true;
        subscribe(conn);
        refreshExecutions(conn);
        refreshReview(conn);
        refreshApprovals(conn);
        refreshSchedules(conn);
        break;
      case "next":
        // A message of a subscription this page has since replaced is not shown.
        if (message.id !== conn.subscription) break;
        if (message.payload.errors) {
          status(errorText(message.payload.errors), true);
        } else {
          const metrics = message.payload.data.metricsUpdates;
          showMetrics(metrics);
          dashboardCharts.show(metrics.series);
          status(`Päivitetty ${new Date().toLocaleTimeString("fi-FI")} · Updated`);
          refreshExecutions(conn);
          refreshApprovals(conn);
          // New documents to review show up as they come, unless a person is
          // typing a correction (a refresh would throw it away).
          refreshReview(conn, true);
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
          status("Palvelin lopetti päivitykset · The server ended the updates", true);
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
    // Anything else (a restart, a network break) is retried with backoff and jitter.
    const delay = Math.min(30, 2 ** conn.attempt) * (0.5 + Math.random() / 2);
    const seconds = Math.ceil(delay);
    status(`Yhteys katkesi, uusi yritys ${seconds} s kuluttua · Retrying in ${seconds} s`, true);
    conn.timer = setTimeout(() => live === conn && connect(key, conn.attempt + 1), delay * 1000);
  };
}

/** Subscribe to the chosen window's figures, ending the subscription it replaces. */
function subscribe(conn) {
  const send = (message) => conn.socket.send(JSON.stringify(message));
  if (conn.subscription) send({ id: conn.subscription, type: "complete" });
  subscriptions += 1;
  conn.subscription = `metrics-${subscriptions}`;
  const chosen = chosenWindow();
  send({ id: conn.subscription, type: "subscribe", payload: { query: METRICS,
    variables: { hoursBack: WINDOWS[chosen][0], window: chosen } } });
}

function chosenWindow() {
  const value = $("window").value;
  return WINDOWS[value] ? value : "24h";
}

/** The heading of the cards follows the window. */
function showWindow() {
  const [, fi, en] = WINDOWS[chosenWindow()];
  const english = document.createElement("small");
  english.lang = "en";
  english.textContent = en;
  $("summary-title").replaceChildren(`${fi} `, english);
}

function disconnect() {
  const conn = live;
  live = null;
  if (!conn) return;
  clearTimeout(conn.timer);
  if (conn.socket.readyState <= WebSocket.OPEN) conn.socket.close(1000);
}

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
  sessionStorage.removeItem(KEY_STORAGE);
  $("key").value = "";
  status("Avain unohdettu · Key forgotten");
});

$("window-form").addEventListener("submit", (event) => event.preventDefault());
$("window").addEventListener("change", () => {
  sessionStorage.setItem(WINDOW_STORAGE, chosenWindow());
  showWindow();
  if (live && live.acked && live.socket.readyState === WebSocket.OPEN) {
    status("Vaihdetaan aikaväliä… · Changing the window…");
    subscribe(live);
  }
});

const savedWindow = sessionStorage.getItem(WINDOW_STORAGE);
if (savedWindow && WINDOWS[savedWindow]) $("window").value = savedWindow;
showWindow();

const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) {
  $("key").value = saved;
  connect(saved);
}
