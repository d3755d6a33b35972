// The dashboard's charts, drawn with the vendored uPlot (static/vendor/uplot) from the
// `series` each metricsUpdates message carries: executions per interval stacked by
// status, p50/p95 durations, the agents' succeeded and failed steps, and the queue and
// running executions as sampled since the page was opened. Times are Helsinki's, as
// the server's intervals are. `window.dashboardCharts` exposes the uPlot instances
// (their `data` is what is drawn) for tests and for a curious console.
"use strict";

const dashboardCharts = (() => {
  const ZONE = "Europe/Helsinki";
  const HEIGHT = 200;
  // Bottom of a stack first: [status, field of MetricsBucket, Finnish, English].
  const STACK = [
    ["SUCCEEDED", "succeeded", "Onnistui", "Succeeded"],
    ["FAILED", "failed", "Epäonnistui", "Failed"],
    ["CANCELLED", "cancelled", "Peruttu", "Cancelled"],
    ["WAITING_APPROVAL", "waitingApproval", "Odottaa hyväksyntää", "Waiting for approval"],
    ["RUNNING", "running", "Käynnissä", "Running"],
    ["PENDING", "pending", "Jonossa", "Queued"],
  ];
  const NOW = [
    ["queued", "PENDING", "Jonossa", "Queued"],
    ["running", "RUNNING", "Käynnissä", "Running"],
    ["waitingApproval", "WAITING_APPROVAL", "Odottaa hyväksyntää", "Waiting for approval"],
  ];
  const INTERVALS = {
    60: ["minuutin välein", "per minute"],
    3600: ["tunnin välein", "per hour"],
    21600: ["6 tunnin välein", "per 6 hours"],
    86400: ["päivittäin", "per day"],
  };
  // Queue samples kept: an hour of updates at the default 5 s.
  const TRAIL = 720;
  const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6];

  const number = new Intl.NumberFormat("fi-FI", { maximumFractionDigits: 2 });
  const clock = new Intl.DateTimeFormat("fi-FI", { timeZone: ZONE, hour: "2-digit", minute: "2-digit" });
  const clockSeconds = new Intl.DateTimeFormat("fi-FI", {
    timeZone: ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const day = new Intl.DateTimeFormat("fi-FI", { timeZone: ZONE, day: "numeric", month: "numeric" });
  const moment = new Intl.DateTimeFormat("fi-FI", {
    timeZone: ZONE, day: "numeric", month: "numeric", hour: "2-digit", minute: "2-digit",
  });
  const duration = (x) =>
    x == null ? "–" : x >= 1000 ? `${number.format(x / 1000)} s` : `${Math.round(x)} ms`;
  const seconds = (iso) => Date.parse(iso) / 1000;
  // The colours of dashboard.css (--status-succeeded, ...), one place for both.
  const colour = (name) =>
    getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();
  const statusColour = (status) => colour(`status-${status.toLowerCase().replaceAll("_", "-")}`);

  const state = { series: null, instances: {}, trail: [[], [], [], []], draws: 0 };

  // --- Shared options -----------------------------------------------------------------

  const tzDate = (ts) => uPlot.tzDate(new Date(ts * 1000), ZONE);
  const timeValues = (u, splits, axisIdx, space, incr) =>
    splits.map((ts) => {
      const at = new Date(ts * 1000);
      const hhmm = clock.format(at);
      if (incr < 60) return clockSeconds.format(at);
      return incr >= 86400 || hhmm === "00.00" ? day.format(at) : hhmm;
    });
  const countValues = (u, splits) =>
    splits.map((v) => (Number.isInteger(v) ? number.format(v) : ""));
  const countRange = (u, min, max) => [0, Math.max(1, Math.ceil((max || 0) * 1.1))];
  /** An axis as wide as its longest label (uPlot measures with the axis's font). */
  const fitLabels = (u, values, axisIdx, cycleNum) => {
    const axis = u.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    const longest = (values || []).reduce((a, v) => (v.length > a.length ? v : a), "");
    u.ctx.font = axis.font[0];
    const text = longest ? u.ctx.measureText(longest).width / devicePixelRatio : 0;
    return Math.ceil(axis.ticks.size + axis.gap + text + 4);
  };
  const countAxis = { values: countValues, incrs: COUNT_INCRS, size: fitLabels };
  const timeAxis = { values: timeValues, space: 64 };
  const timeSeries = {
    label: "Aika · Time",
    value: (u, ts) => (ts == null ? "–" : moment.format(new Date(ts * 1000))),
  };
  const bars = () => uPlot.paths.bars({ size: [0.8, 64, 1] });
  // The legend shows the values under the cursor where there is room for them; on a
  // phone it is the key alone.
  const legend = () => ({ live: window.innerWidth >= 600 });

  /** The x range of the interval charts: every interval whole, each bar centred on
   * its start. */
  function intervalRange() {
    const s = state.series;
    if (!s || !s.buckets.length) return [0, 1];
    const half = s.intervalSeconds / 2;
    return [seconds(s.buckets[0].start) - half, seconds(s.buckets.at(-1).start) + half];
  }

  // --- The four charts ----------------------------------------------------------------

  function executionsOptions(width) {
    // Each series is the sum of its status and those below it, drawn top first, so
    // that each shows as its own band; the legend gives each status's own count.
    const top = [...STACK].reverse();
    return {
      width, height: HEIGHT, tzDate, legend: legend(),
      cursor: { points: { show: false } },
      scales: { x: { time: true, range: intervalRange }, y: { range: countRange } },
      axes: [timeAxis, countAxis],
      series: [
        timeSeries,
        ...top.map(([status, field, fi, en]) => ({
          label: `${fi} · ${en}`,
          fill: statusColour(status),
          stroke: statusColour(status),
          width: 0,
          paths: bars(),
          points: { show: false },
          value: (u, v, si, i) =>
            i == null || !state.series ? "–" : number.format(state.series.buckets[i][field]),
        })),
      ],
    };
  }

  function executionsData(s) {
    const xs = s.buckets.map((b) => seconds(b.start));
    let sum = xs.map(() => 0);
    const stacked = STACK.map(([, field]) => (sum = sum.map((v, i) => v + s.buckets[i][field])));
    return [xs, ...stacked.reverse()];
  }

  function durationsOptions(width) {
    const line = (label, name) => ({
      label, stroke: colour(name), width: 2, spanGaps: false,
      points: { show: true, size: 6, fill: colour(name) },
      value: (u, v) => duration(v),
    });
    return {
      width, height: HEIGHT, tzDate, legend: legend(),
      scales: {
        x: { time: true, range: intervalRange },
        y: { range: (u, min, max) => [0, max == null ? 1000 : Math.max(1, max * 1.15)] },
      },
      axes: [
        timeAxis,
        { values: (u, splits) => splits.map((v) => duration(v)), size: fitLabels },
      ],
      series: [timeSeries, line("Mediaani · p50", "p50"), line("95. persentiili · p95", "p95")],
    };
  }

  function durationsData(s) {
    return [
      s.buckets.map((b) => seconds(b.start)),
      s.buckets.map((b) => b.p50DurationMs),
      s.buckets.map((b) => b.p95DurationMs),
    ];
  }

  const agentsOf = () => (state.series ? state.series.agents : []);
  const agentsHeight = () => Math.max(120, 60 + 30 * agentsOf().length);

  function agentsOptions(width) {
    // Horizontal bars (the x scale stands upright): the agents' ids fit on a phone.
    const name = (i) => (agentsOf()[i] ? agentsOf()[i].agentId : "");
    return {
      width, height: agentsHeight(), legend: legend(),
      cursor: { points: { show: false } },
      scales: {
        x: { time: false, ori: 1, dir: -1, range: () => [-0.5, Math.max(agentsOf().length, 1) - 0.5] },
        y: { ori: 0, range: countRange },
      },
      axes: [
        { side: 3, incrs: [1], space: 10, size: fitLabels, grid: { show: false },
          values: (u, splits) => splits.map(name) },
        { side: 2, ...countAxis, size: 30 },
      ],
      series: [
        { label: "Agentti · Agent", value: (u, i) => (i == null ? "–" : name(i)) },
        { label: "Epäonnistui · Failed", fill: statusColour("FAILED"), width: 0,
          paths: bars(), points: { show: false },
          value: (u, v, si, i) => (i == null ? "–" : number.format(agentsOf()[i].failed)) },
        { label: "Onnistui · Succeeded", fill: statusColour("SUCCEEDED"), width: 0,
          paths: bars(), points: { show: false },
          value: (u, v, si, i) => (i == null ? "–" : number.format(agentsOf()[i].succeeded)) },
      ],
    };
  }

  function agentsData(s) {
    return [
      s.agents.map((a, i) => i),
      s.agents.map((a) => a.succeeded + a.failed),
      s.agents.map((a) => a.succeeded),
    ];
  }

  function queueOptions(width) {
    // The samples' span, and at least five minutes, so that the first samples do
    // not stand alone (uPlot would give a single one a range of days).
    const recent = () => {
      const times = state.trail[0];
      const last = times.length ? times.at(-1) : Date.now() / 1000;
      return [Math.min(times.length ? times[0] : last, last - 300), last + 5];
    };
    return {
      width, height: HEIGHT, tzDate, legend: legend(),
      scales: { x: { time: true, range: recent }, y: { range: countRange } },
      axes: [timeAxis, countAxis],
      series: [
        timeSeries,
        ...NOW.map(([, status, fi, en]) => ({
          label: `${fi} · ${en}`, stroke: statusColour(status), width: 2,
          paths: uPlot.paths.stepped({ align: 1 }),
          points: { show: true, size: 4, fill: statusColour(status) },
          value: (u, v) => (v == null ? "–" : number.format(v)),
        })),
      ],
    };
  }

  /** Add the series' queue figures as a sample. A reading no newer than the last
   * sample (the same shared reading again, or another window's older one) updates
   * the last sample's figures instead: times only go forward. */
  function sample(s) {
    const [times, ...values] = state.trail;
    const at = seconds(s.until);
    if (times.length && times.at(-1) >= at) {
      NOW.forEach(([field], k) => (values[k][values[k].length - 1] = s[field]));
      return;
    }
    times.push(at);
    NOW.forEach(([field], k) => values[k].push(s[field]));
    if (times.length > TRAIL) state.trail.forEach((column) => column.shift());
  }

  // --- Drawing ------------------------------------------------------------------------

  const CHARTS = {
    executions: [executionsOptions, executionsData],
    durations: [durationsOptions, durationsData],
    agents: [agentsOptions, agentsData],
    queue: [queueOptions, () => state.trail.map((column) => [...column])],
  };

  function draw(name) {
    const [options, data] = CHARTS[name];
    const box = document.getElementById(`chart-${name}`);
    const rows = data(state.series);
    const chart = state.instances[name];
    if (!chart) {
      state.instances[name] = new uPlot(options(box.clientWidth), rows, box);
      new ResizeObserver(() => {
        const u = state.instances[name];
        if (u && box.clientWidth && box.clientWidth !== u.width) {
          u.setSize({ width: box.clientWidth, height: u.height });
        }
      }).observe(box);
      return;
    }
    if (name === "agents" && chart.height !== agentsHeight()) {
      chart.setSize({ width: chart.width, height: agentsHeight() });
    }
    chart.setData(rows);
  }

  function show(series) {
    state.series = series;
    sample(series);
    for (const name of Object.keys(CHARTS)) draw(name);
    const [fi, en] = INTERVALS[series.intervalSeconds] || [`${series.intervalSeconds} s`, ""];
    const english = document.createElement("small");
    english.lang = "en";
    english.textContent = en;
    document.getElementById("charts-interval").replaceChildren(`· ${fi} `, english);
    document.getElementById("queue-now").textContent = NOW.map(
      ([field, , fi]) => `${fi} ${number.format(series[field])}`).join(" · ");
    state.draws += 1;
    document.getElementById("chart-executions").dataset.window = series.window;
  }

  return {
    show,
    instances: state.instances,
    get series() {
      return state.series;
    },
    get draws() {
      return state.draws;
    },
  };
})();

window.dashboardCharts = dashboardCharts;
