// The copilot's plan preview: a command goes to `copilotPlan` (nothing runs), the plan's
// graph is drawn with the execution view's layout and drawing (layout.js, graph.js),
// and "Suorita" sends the same command, with the same reference date and the plan's
// fingerprint, to `copilotExecute`, which runs that plan and no other (a plan that came
// out otherwise is refused and drawn here instead), then opens the new execution's
// view. The API key is the dashboard's (this tab's sessionStorage); it travels only in
// the X-API-Key header.
"use strict";

const PLAN_FIELDS = `templateId variables graph explanation planner warnings language
  modelCalls fingerprint schedule { cron timezone description }`;
const PLAN = `query Plan($c: String!, $ctx: CopilotContextInput) {
  copilotPlan(command: $c, context: $ctx) { ${PLAN_FIELDS} } }`;
const RUN = `mutation Run($c: String!, $ctx: CopilotContextInput, $e: String) {
  copilotExecute(command: $c, context: $ctx, expectFingerprint: $e) {
    execution { id } schedule { id name nextRunAt } } }`;

// Finnish first, English after the dot, as on the dashboard.
const MESSAGES = {
  ...COMMON_MESSAGES,
  PLANNING_FAILED: "Komentoa ei voitu suunnitella · The command could not be planned",
  VALIDATION_FAILED: "Komento ei kelpaa · The command is not valid",
  SERVICE_DISABLED: "Avustaja ei ole käytössä · The copilot is switched off",
  PLAN_CHANGED: "Suunnitelma muuttui, mitään ei käynnistetty · "
    + "The plan changed, nothing was started",
};
const PLANNERS = { offline: "paikallinen · offline", openai: "OpenAI" };
/** The longest command the page sends (the API refuses longer ones too). */
const MAX_COMMAND = 2000;

/** What the page shows: the last plan and what it was made from. */
const state = { plan: null, command: null, referenceDate: null, busy: false };

function say(id, text, isError = false) {
  $(id).textContent = text;
  $(id).className = isError ? "error" : "ok";
}

function key() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

/** Today in this browser's calendar, as YYYY-MM-DD. */
function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// --- the plan's drawing -----------------------------------------------------------

/** The steps a step waits for: its depends_on and every step its inputs, for_each or
 * when refer to (`${steps.x...}`, `steps.x...`), as the engine reads them. */
function waitsFor(spec, ids) {
  const found = new Set(spec.depends_on || []);
  const text = JSON.stringify([spec.inputs || {}, spec.for_each ?? null, spec.when ?? null]);
  for (const match of text.matchAll(/\bsteps\.([A-Za-z0-9_-]+)/g)) {
    if (ids.has(match[1]) && match[1] !== spec.id) found.add(match[1]);
  }
  return [...found];
}

function showPlan() {
  const plan = state.plan;
  $("plan-section").hidden = $("graph-section").hidden = !plan;
  $("variables-section").hidden = !plan || !Object.keys(plan.variables || {}).length;
  if (!plan) return;
  $("plan-explanation").textContent = plan.explanation;
  $("plan-warnings").replaceChildren(...plan.warnings.map((w) => h("li", {}, w)));
  const planner = PLANNERS[plan.planner] || plan.planner;
  const template = plan.templateId ? ` · pohja · template ${plan.templateId}` : "";
  const calls = plan.modelCalls ? ` · mallikutsuja · model calls ${plan.modelCalls}` : "";
  $("plan-meta").textContent = `Suunnittelija · Planner: ${planner}${template}${calls}`
    + ` · päivä · reference date ${state.referenceDate}`;
  $("plan-schedule").hidden = !plan.schedule;
  if (plan.schedule) {
    $("plan-schedule").textContent = `Toistuu · Repeats: ${plan.schedule.description}`
      + ` (${plan.schedule.cron}, ${plan.schedule.timezone})`;
  }
  $("run-note").textContent = plan.schedule
    ? "Suorita luo ajastuksen · Run creates a schedule" : "";
  $("plan-variables").textContent = JSON.stringify(plan.variables, null, 2);
  const specs = (plan.graph && plan.graph.steps) || [];
  const ids = new Set(specs.map((s) => s.id));
  // Nothing has run: every step PENDING, its arrows from what it waits for.
  const steps = new Map(specs.map((spec) => [spec.id, { stepId: spec.id,
    agentId: spec.agent || null, status: "PENDING", attempts: 0,
    dependsOn: waitsFor(spec, ids), parentStepId: null }]));
  window.executionGraph.draw($("graph"), { specs, steps }, showStep);
  showStep(specs.length ? specs[0].id : null);
}

/** One step of the plan as JSON (what it runs and with what). */
function showStep(stepId) {
  const specs = (state.plan && state.plan.graph && state.plan.graph.steps) || [];
  const spec = specs.find((s) => s.id === stepId);
  if (!spec) {
    $("plan-step").replaceChildren();
    return;
  }
  $("plan-step").replaceChildren(h("details", { open: true, className: "step",
    "data-step-id": spec.id }, h("summary", {}, h("code", {}, spec.id),
    ` · ${spec.agent || (spec.workflow ? "alityönkulku · sub-workflow" : "")}`),
  h("pre", { className: "json-block" }, JSON.stringify(spec, null, 2))));
}

// --- planning and running ---------------------------------------------------------

function context() {
  return { referenceDate: state.referenceDate };
}

function busy(on) {
  state.busy = on;
  $("plan").disabled = on;
  $("run").disabled = on || !state.plan;
}

async function plan(command, reference) {
  busy(true);
  say("plan-status", "Suunnitellaan… · Planning…");
  say("action-status", "");
  try {
    state.referenceDate = reference;
    const data = await query(key(), PLAN, { c: command, ctx: { referenceDate: reference } });
    state.plan = data.copilotPlan;
    state.command = command;
    say("plan-status", "Suunnitelma valmis, mitään ei ole vielä ajettu · "
      + "Plan ready, nothing has run yet");
  } catch (error) {
    state.plan = null;
    state.command = null;
    say("plan-status", error.message, true);
  } finally {
    showPlan();
    busy(false);
  }
}

async function run() {
  if (!state.plan || state.busy) return;
  busy(true);
  say("action-status", "Käynnistetään… · Starting…");
  try {
    const data = await query(key(), RUN,
      { c: state.command, ctx: context(), e: state.plan.fingerprint });
    const result = data.copilotExecute;
    if (result.execution) {
      say("action-status", "Käynnistetty · Started");
      location.assign(`/workflows/executions/${encodeURIComponent(result.execution.id)}`);
      return;
    }
    if (result.schedule) {
      say("action-status", `Ajastus luotu · Schedule created: ${result.schedule.name}`);
    }
  } catch (error) {
    busy(false);
    if (error.code === "PLAN_CHANGED") {
      // Planned again (by a model, in another process), the plan came out otherwise:
      // nothing ran; the new plan is drawn for the person to look at and run.
      await plan(state.command, state.referenceDate);
    }
    say("action-status", error.message, true);
    return;
  }
  busy(false);
}

$("command-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const command = $("command").value.trim();
  if (!key()) {
    say("status", "Anna ensin API-avain · Enter an API key first", true);
    $("key").focus();
    return;
  }
  if (!command) {
    say("plan-status", "Kirjoita komento, esim. \"Luo talousraportti viime kuulta\" · "
      + "Type a command, e.g. \"Create a financial report for last month\"", true);
    return;
  }
  if (command.length > MAX_COMMAND) {
    say("plan-status", `Komento on liian pitkä (enintään ${MAX_COMMAND} merkkiä) · `
      + `The command is too long (at most ${MAX_COMMAND} characters)`, true);
    return;
  }
  plan(command, $("reference-date").value || today());
});

// Enter plans (Shift+Enter starts a new line), as in a chat.
$("command").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("command-form").requestSubmit();
  }
});

$("run").addEventListener("click", run);

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const typed = $("key").value.trim();
  if (!typed) {
    say("status", "Anna API-avain · Enter an API key", true);
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, typed);
  say("status", "Avain tallennettu tälle välilehdelle · Key kept for this tab");
});

$("forget").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORAGE);
  $("key").value = "";
  say("status", "Avain unohdettu · Key forgotten");
});

$("reference-date").value = today();
busy(false);
if (key()) {
  $("key").value = key();
  say("status", "Avain tallennettu tälle välilehdelle · Key kept for this tab");
}
