// A layered ("Sugiyama") layout of a directed acyclic graph, top to bottom, after
// Sugiyama, Tagawa and Toda (1981) in the usual four phases:
//   1. layers by longest path from the sources (a source is then moved down next to
//      the first step that needs it);
//   2. an edge that spans several layers gets a dummy node in each layer between;
//   3. the order within each layer by barycentre sweeps, down and up, keeping the
//      order with the fewest crossings (Eades and Wormald's heuristic);
//   4. x by placing each node under the mean of its neighbours, with the layer's order
//      and gaps kept: a least-squares fit solved exactly by pool-adjacent-violators
//      (isotonic regression), a few sweeps down and up.
// Nodes keep their own sizes (a for-each's box is larger). Exposed as
// `window.executionLayout.layered`; the browser tests call it directly.
"use strict";

(function () {
  const DEFAULTS = { rankGap: 44, nodeGap: 22, dummyGap: 10, margin: 12, sweeps: 12 };

  /** Layers by longest path; every edge then points to a later layer. */
  function assignLayers(ids, preds, succs) {
    const layer = new Map();
    const indegree = new Map(ids.map((id) => [id, preds.get(id).length]));
    const ready = ids.filter((id) => indegree.get(id) === 0);
    const order = [];
    while (ready.length) {
      const id = ready.shift();
      order.push(id);
      for (const next of succs.get(id)) {
        indegree.set(next, indegree.get(next) - 1);
        if (indegree.get(next) === 0) ready.push(next);
      }
    }
    // A cycle (the validator refuses them): its nodes follow, their back edges ignored.
    for (const id of ids) if (!order.includes(id)) order.push(id);
    const seen = new Set();
    for (const id of order) {
      const before = preds.get(id).filter((p) => seen.has(p));
      layer.set(id, before.length ? Math.max(...before.map((p) => layer.get(p) + 1)) : 0);
      seen.add(id);
    }
    // A source sits just above the first node that needs it, not at the very top.
    for (const id of order.slice().reverse()) {
      const below = succs.get(id).filter((s) => layer.get(s) > layer.get(id));
      if (preds.get(id).length === 0 && below.length) {
        layer.set(id, Math.min(...below.map((s) => layer.get(s))) - 1);
      }
    }
    return layer;
  }

  /** Crossings between two adjacent layers' edges, given each node's position. */
  function crossings(edges, pos) {
    let count = 0;
    for (let i = 0; i < edges.length; i++) {
      const [a, b] = edges[i];
      for (let j = i + 1; j < edges.length; j++) {
        const [c, d] = edges[j];
        const top = pos.get(a) - pos.get(c);
        const bottom = pos.get(b) - pos.get(d);
        if (top * bottom < 0) count++;
      }
    }
    return count;
  }

  /** Nondecreasing y minimising the squared distance to `target` (PAVA). */
  function isotonic(target) {
    const blocks = [];
    for (const value of target) {
      blocks.push({ sum: value, n: 1 });
      while (blocks.length > 1) {
        const last = blocks[blocks.length - 1];
        const prev = blocks[blocks.length - 2];
        if (prev.sum / prev.n <= last.sum / last.n) break;
        prev.sum += last.sum;
        prev.n += last.n;
        blocks.pop();
      }
    }
    return blocks.flatMap((b) => Array(b.n).fill(b.sum / b.n));
  }

  /**
   * Lay out `nodes` ({id, width, height}) joined by `edges` ({from, to}: `to` comes
   * after `from`). Returns {width, height, nodes: Map id -> {x, y, width, height,
   * layer, order}, edges: [{from, to, points: [[x, y], ...]}], crossings}.
   */
  function layered(nodes, edges, options = {}) {
    const o = { ...DEFAULTS, ...options };
    const ids = nodes.map((n) => n.id);
    const size = new Map(nodes.map((n) => [n.id, n]));
    const known = edges.filter((e) => size.has(e.from) && size.has(e.to) && e.from !== e.to);
    const preds = new Map(ids.map((id) => [id, []]));
    const succs = new Map(ids.map((id) => [id, []]));
    for (const e of known) {
      if (succs.get(e.from).includes(e.to)) continue;
      succs.get(e.from).push(e.to);
      preds.get(e.to).push(e.from);
    }
    const layer = assignLayers(ids, preds, succs);

    // Phase 2: the layered graph, with a chain of dummies for each long edge.
    const all = new Map(ids.map((id) => [id, { id, dummy: false, layer: layer.get(id),
      width: size.get(id).width, height: size.get(id).height }]));
    const up = new Map(ids.map((id) => [id, []]));
    const down = new Map(ids.map((id) => [id, []]));
    const chains = [];
    for (const [from, targets] of succs) {
      for (const to of targets) {
        let [a, b] = [from, to];
        if (layer.get(a) > layer.get(b)) [a, b] = [b, a]; // a back edge of a cycle
        const chain = [a];
        for (let l = layer.get(a) + 1; l < layer.get(b); l++) {
          const id = `\u0000${from}\u0000${to}\u0000${l}`;
          all.set(id, { id, dummy: true, layer: l, width: 0, height: 0 });
          up.set(id, []);
          down.set(id, []);
          chain.push(id);
        }
        chain.push(b);
        for (let i = 1; i < chain.length; i++) {
          down.get(chain[i - 1]).push(chain[i]);
          up.get(chain[i]).push(chain[i - 1]);
        }
        chains.push({ from, to, chain: layer.get(from) > layer.get(to) ? chain.reverse() : chain });
      }
    }
    const depth = Math.max(-1, ...[...all.values()].map((n) => n.layer)) + 1;
    const layers = Array.from({ length: depth }, () => []);
    for (const node of all.values()) layers[node.layer].push(node.id); // input order

    // Phase 3: barycentre sweeps; the best order seen is kept.
    const position = () => {
      const pos = new Map();
      layers.forEach((ids_) => ids_.forEach((id, i) => pos.set(id, i)));
      return pos;
    };
    const totalCrossings = () => {
      const pos = position();
      let count = 0;
      for (let l = 0; l + 1 < depth; l++) {
        const between = layers[l].flatMap((id) => down.get(id).map((d) => [id, d]));
        count += crossings(between, pos);
      }
      return count;
    };
    let best = layers.map((l) => l.slice());
    let fewest = totalCrossings();
    for (let sweep = 0; sweep < o.sweeps && fewest > 0; sweep++) {
      const downward = sweep % 2 === 0;
      const range = downward ? [...Array(depth).keys()].slice(1) : [...Array(depth).keys()].reverse().slice(1);
      for (const l of range) {
        const pos = position();
        const neighbours = downward ? up : down;
        const centre = new Map(layers[l].map((id, i) => {
          const ns = neighbours.get(id);
          return [id, ns.length ? ns.reduce((s, n) => s + pos.get(n), 0) / ns.length : i];
        }));
        // A stable sort: equal barycentres keep their order.
        layers[l] = layers[l].map((id, i) => [id, i])
          .sort((a, b) => centre.get(a[0]) - centre.get(b[0]) || a[1] - b[1])
          .map(([id]) => id);
      }
      const count = totalCrossings();
      if (count < fewest) {
        fewest = count;
        best = layers.map((l) => l.slice());
      }
    }
    best.forEach((l, i) => (layers[i] = l));

    // Phase 4: coordinates. y by layer; x by least squares under the order and gaps.
    const tops = [];
    let y = o.margin;
    for (const ids_ of layers) {
      tops.push(y);
      y += Math.max(0, ...ids_.map((id) => all.get(id).height)) + o.rankGap;
    }
    const height = y - o.rankGap + o.margin;
    const centre = new Map();
    for (const ids_ of layers) {
      let x = 0;
      ids_.forEach((id, i) => {
        if (i > 0) x += separation(all, ids_[i - 1], id, o);
        centre.set(id, x);
      });
    }
    const place = (ids_, neighbours) => {
      const offsets = [];
      let offset = 0;
      ids_.forEach((id, i) => {
        if (i > 0) offset += separation(all, ids_[i - 1], id, o);
        offsets.push(offset);
      });
      const wanted = ids_.map((id) => {
        const ns = neighbours.get(id);
        return ns.length ? ns.reduce((s, n) => s + centre.get(n), 0) / ns.length : centre.get(id);
      });
      const fitted = isotonic(wanted.map((w, i) => w - offsets[i]));
      ids_.forEach((id, i) => centre.set(id, fitted[i] + offsets[i]));
    };
    for (let round = 0; round < 4; round++) {
      for (let l = 1; l < depth; l++) place(layers[l], up);
      for (let l = depth - 2; l >= 0; l--) place(layers[l], down);
    }
    const left = Math.min(0, ...[...all.values()].map((n) => centre.get(n.id) - n.width / 2));
    const shift = o.margin - left;
    let width = 0;
    const placed = new Map();
    layers.forEach((ids_, l) => ids_.forEach((id, order) => {
      const n = all.get(id);
      const x = centre.get(id) + shift - n.width / 2;
      width = Math.max(width, x + n.width + o.margin);
      if (!n.dummy) placed.set(id, { x, y: tops[l], width: n.width, height: n.height, layer: l, order });
      else placed.set(id, { x, y: tops[l], width: 0, height: 0, layer: l, order, dummy: true });
    }));

    const routed = chains.map(({ from, to, chain }) => {
      const points = [];
      chain.forEach((id, i) => {
        const p = placed.get(id);
        const cx = p.x + p.width / 2;
        if (i === 0) points.push([cx, p.y + p.height]);
        else if (i === chain.length - 1) points.push([cx, p.y]);
        else {
          const l = all.get(id).layer;
          const bottom = l + 1 < depth ? tops[l + 1] - o.rankGap : tops[l];
          points.push([cx, tops[l]], [cx, Math.max(tops[l], bottom)]);
        }
      });
      return { from, to, points };
    });
    for (const [id, p] of placed) if (p.dummy) placed.delete(id);
    return { width: Math.max(width, 2 * o.margin), height: Math.max(height, 2 * o.margin),
      nodes: placed, edges: routed, crossings: fewest };
  }

  /** The distance between the centres of two neighbours in a layer. */
  function separation(all, a, b, o) {
    const [na, nb] = [all.get(a), all.get(b)];
    const gap = na.dummy || nb.dummy ? o.dummyGap : o.nodeGap;
    return (na.width + nb.width) / 2 + gap;
  }

  window.executionLayout = { layered, crossings, isotonic };
})();
