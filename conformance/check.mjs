// Conformance of a running server, checked with the reference implementations:
//
//   node check.mjs <base URL> <API key>
//
// 1. graphql-http's server audits (the GraphQL-over-HTTP spec suite) against
//    <base URL>/graphql, every request carrying the key;
// 2. graphql-ws, the reference graphql-transport-ws client: start a two-step
//    execution, follow its executionEvents from the start, and report what arrived.
//
// Starts nothing itself. Prints one JSON object on stdout:
//   {"audits": {"ok": N, "total": N, "problems": [...]},
//    "stream": {"executionId": ..., "events": [...], "completed": bool, "error": ...}}
// and exits 0 when it could run both checks (the caller judges the figures).

import { auditServer } from 'graphql-http';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [base, key] = process.argv.slice(2);
if (!base || !key) {
  console.error('usage: node check.mjs <base URL> <API key>');
  process.exit(2);
}
const httpUrl = new URL('/graphql', base).href;
const wsUrl = httpUrl.replace(/^http/, 'ws');
const STREAM_TIMEOUT_MS = 60_000;

/** fetch with the API key on every request, as any client of ours sends it. */
function keyedFetch(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('x-api-key', key);
  return fetch(input, { ...init, headers });
}

async function audits() {
  const results = await auditServer({ url: httpUrl, fetchFn: keyedFetch });
  const problems = [];
  for (const result of results) {
    if (result.status !== 'ok') {
      let body = '';
      try {
        body = await result.response.text();
      } catch {
        body = '(unreadable)';
      }
      problems.push({
        id: result.id,
        name: result.name,
        status: result.status,
        reason: result.reason,
        httpStatus: result.response.status,
        contentType: result.response.headers.get('content-type'),
        body: body.slice(0, 500),
      });
    }
  }
  return {
    ok: results.filter((r) => r.status === 'ok').length,
    total: results.length,
    problems,
  };
}

// Two chained steps: EXECUTION_STARTED, two STEP_STARTED and STEP_SUCCEEDED, and
// EXECUTION_SUCCEEDED: six events.
const GRAPH = {
  steps: [
    { id: 'first', agent: 'wait_agent', inputs: { seconds: 0 } },
    { id: 'second', agent: 'wait_agent', inputs: { seconds: 0 }, depends_on: ['first'] },
  ],
};

async function startExecution() {
  const res = await keyedFetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      query: 'mutation($graph: JSON!) { executeWorkflow(input: {graph: $graph}) { id } }',
      variables: { graph: GRAPH },
    }),
  });
  const body = await res.json();
  if (body.errors || !body.data) {
    throw new Error(`executeWorkflow failed: ${JSON.stringify(body)}`);
  }
  return body.data.executeWorkflow.id;
}

async function stream() {
  const executionId = await startExecution();
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { 'X-API-Key': key },
    retryAttempts: 0,
    lazy: true,
  });
  const events = [];
  let completed = false;
  let error = null;
  const subscription = client.iterate({
    query: `subscription($id: ID!) {
      executionEvents(executionId: $id, afterSeq: 0) { seq type stepId }
    }`,
    variables: { id: executionId },
  });
  const timer = setTimeout(() => {
    error = `no complete within ${STREAM_TIMEOUT_MS} ms`;
    subscription.return?.();
  }, STREAM_TIMEOUT_MS);
  try {
    for await (const message of subscription) {
      if (message.errors) {
        error = JSON.stringify(message.errors);
        break;
      }
      events.push(message.data.executionEvents);
    }
    completed = error === null;
  } catch (exc) {
    error = exc instanceof Error ? exc.message : JSON.stringify(exc);
  } finally {
    clearTimeout(timer);
    await client.dispose();
  }
  return { executionId, events, completed, error };
}

const report = { audits: await audits(), stream: await stream() };
console.log(JSON.stringify(report));
