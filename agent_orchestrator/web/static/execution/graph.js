// The workflow graph as SVG: each of the graph's steps a box coloured by its status,
// arrows from the steps it waits for (`StepRun.dependsOn`), and a for-each's elements
// (or a sub-workflow's steps) as small boxes inside its own, placed by the layered
// layout of layout.js. `window.executionGraph.draw(container, state, onSelect)`.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const NODE = { width: 220, height: 58 };
  const CELL = { width: 54, height: 34, gap: 6, pad: 10, header: 56, columns: 6 };
  const INNER = { width: 124, height: 26, columns: 2 };
  /** Cells drawn inside one box at most (a month's receipts fit); the rest are
   * counted in a last cell. Past `WIDE_FROM` cells the box gets more columns. */
  const MAX_CELLS = 200;
  const WIDE_FROM = 48;
  const WIDE_COLUMNS = 10;
  // Short enough for a box: Finnish, then the English word.
  const STATUS = {
    PENDING: ["Odottaa", "pending"],
    RUNNING: ["Käynnissä", "running"],
    RETRYING: ["Uusitaan", "retrying"],
    WAITING_APPROVAL: ["Odottaa hyväksyntää", "approval"],
    SUCCEEDED: ["Onnistui", "succeeded"],
    FAILED: ["Epäonnistui", "failed"],
    SKIPPED: ["Ohitettu", "skipped"],
    CANCELLED: ["Peruttu", "cancelled"],
  };

  function el(name, attributes = {}, ...children) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }

  function clip(text, max) {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  /** What is drawn inside a step's box: its elements or sub-workflow steps. */
  function cellsOf(spec, children) {
    if (spec.for_each == null && spec.workflow == null) return null;
    const inner = spec.for_each == null;
    const size = inner ? INNER : CELL;
    const shown = children.length > MAX_CELLS ? children.slice(0, MAX_CELLS - 1) : children;
    const count = shown.length + (shown.length < children.length ? 1 : 0);
    const most = inner ? INNER.columns : count > WIDE_FROM ? WIDE_COLUMNS : CELL.columns;
    const columns = Math.max(1, Math.min(count, most));
    const rows = Math.max(1, Math.ceil(count / columns));
    const width = Math.max(NODE.width,
      2 * CELL.pad + columns * size.width + (columns - 1) * CELL.gap);
    const height = CELL.header + rows * size.height + (rows - 1) * CELL.gap + CELL.pad;
    return { inner, size, shown, hidden: children.length - shown.length, columns, width, height };
  }

  function statusLine(status, x, y) {
    const [fi, en] = STATUS[status] || [status, status.toLowerCase()];
    return el("text", { x, y, class: "status-text" }, `${fi} `,
      el("tspan", { class: "en" }, `· ${en}`));
  }

  function drawCells(group, box, cells, steps) {
    const { size, columns } = cells;
    cells.shown.forEach((child, i) => {
      const x = CELL.pad + (i % columns) * (size.width + CELL.gap);
      const y = CELL.header + Math.floor(i / columns) * (size.height + CELL.gap);
      const label = cells.inner
        ? clip(child.stepId.slice(child.stepId.lastIndexOf(".") + 1), 18)
        : `[${child.index}]`;
      const cell = el("g", { class: `cell ${child.status}`, "data-step-id": child.stepId,
        "data-status": child.status, transform: `translate(${x},${y})`, tabindex: "0" },
      el("title", {}, `${child.stepId}: ${(STATUS[child.status] || [child.status]).join(" · ")}`),
      el("rect", { width: size.width, height: size.height, rx: 4 }),
      el("text", { x: size.width / 2, y: cells.inner ? 17 : 15, class: "cell-label" }, label));
      // An element that runs a sub-workflow: one dot per step inside it.
      const inside = steps.filter((s) => s.parentStepId === child.stepId);
      inside.slice(0, 8).forEach((s, j) => cell.append(el("circle", {
        cx: 8 + j * 6, cy: size.height - 7, r: 2.4, class: `dot ${s.status}` })));
      group.append(cell);
    });
    if (cells.hidden > 0) {
      const i = cells.shown.length;
      const x = CELL.pad + (i % columns) * (size.width + CELL.gap);
      const y = CELL.header + Math.floor(i / columns) * (size.height + CELL.gap);
      group.append(el("g", { class: "cell more", transform: `translate(${x},${y})` },
        el("rect", { width: size.width, height: size.height, rx: 4 }),
        el("text", { x: size.width / 2, y: 21, class: "cell-label" }, `+${cells.hidden}`)));
    }
    if (!cells.shown.length) {
      group.append(el("text", { x: CELL.pad, y: CELL.header + 21, class: "placeholder" },
        cells.inner ? "ei vielä vaiheita · no steps yet" : "ei vielä alkioita · no elements yet"));
    }
  }

  function kindText(spec, children) {
    if (spec.for_each != null) {
      const done = children.filter((c) => c.status === "SUCCEEDED").length;
      const what = spec.agent || "alityönkulku · sub-workflow";
      return `jokaiselle · for each: ${done}/${children.length} · ${what}`;
    }
    if (spec.workflow != null) {
      const w = spec.workflow;
      return `alityönkulku · sub-workflow ${w.template || w.workflow_id || ""}`;
    }
    return spec.agent || "";
  }

  /**
   * Draw `state.specs` (the graph's steps) with the runs of `state.steps` (a Map by
   * step id) into `container`; `onSelect(stepId)` when a box is clicked.
   */
  function draw(container, state, onSelect) {
    const runs = [...state.steps.values()];
    const nodes = [];
    const boxes = new Map();
    for (const spec of state.specs) {
      const children = runs.filter((s) => s.parentStepId === spec.id)
        .sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
      const cells = cellsOf(spec, children);
      const size = cells ? { width: cells.width, height: cells.height } : NODE;
      nodes.push({ id: spec.id, ...size });
      boxes.set(spec.id, { spec, children, cells });
    }
    const edges = state.specs.flatMap((spec) => {
      const run = state.steps.get(spec.id);
      const waits = run && run.dependsOn ? run.dependsOn : spec.depends_on || [];
      return waits.map((from) => ({ from, to: spec.id }));
    });
    const layout = window.executionLayout.layered(nodes, edges);
    const svg = el("svg", { viewBox: `0 0 ${layout.width} ${layout.height}`,
      width: layout.width, height: layout.height, class: "graph-svg" });
    svg.append(el("defs", {}, el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9,
      refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
    el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }))));
    for (const edge of layout.edges) {
      const from = state.steps.get(edge.from);
      const done = from && (from.status === "SUCCEEDED" || from.status === "SKIPPED");
      svg.append(el("path", { d: curve(edge.points), class: `edge${done ? " done" : ""}`,
        "marker-end": "url(#arrow)", "data-from": edge.from, "data-to": edge.to }));
    }
    for (const [id, box] of boxes) {
      const at = layout.nodes.get(id);
      const run = state.steps.get(id);
      const status = run ? run.status : "PENDING";
      const group = el("g", { class: `node ${status}${box.cells ? " group" : ""}`,
        "data-step-id": id, "data-status": status,
        transform: `translate(${at.x},${at.y})`, tabindex: "0", role: "button",
        "aria-label": `${id}: ${(STATUS[status] || [status]).join(" · ")}` });
      const attempts = run && run.attempts > 1 ? ` (${run.attempts}.)` : "";
      group.append(
        el("title", {}, `${id} · ${kindText(box.spec, box.children)}`),
        el("rect", { width: at.width, height: at.height, rx: 7, class: "box" }),
        // About 6.5 px a character at these sizes.
        el("text", { x: 10, y: 18, class: "step-id" }, clip(id, Math.floor(at.width / 8.5)) + attempts),
        el("text", { x: 10, y: 33, class: "agent" },
          clip(kindText(box.spec, box.children), Math.floor((at.width - 16) / 6.2))),
        statusLine(status, 10, 48));
      if (box.cells) drawCells(group, at, box.cells, runs);
      const select = (event) => {
        const target = event.target.closest("[data-step-id]");
        if (onSelect && target) onSelect(target.dataset.stepId);
      };
      group.addEventListener("click", select);
      group.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") select(event);
      });
      svg.append(group);
    }
    container.replaceChildren(svg);
    api.lastLayout = layout;
    return layout;
  }

  /** A smooth path through the routed points, vertical at both ends. */
  function curve(points) {
    let d = `M${points[0][0]},${points[0][1]}`;
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      const mid = (y0 + y1) / 2;
      d += x0 === x1 ? ` L${x1},${y1}` : ` C${x0},${mid} ${x1},${mid} ${x1},${y1}`;
    }
    return d;
  }

  const api = { draw, STATUS, lastLayout: null };
  window.executionGraph = api;
})();
