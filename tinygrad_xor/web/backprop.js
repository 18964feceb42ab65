// The backprop page: steps through the forward and the backward pass of one graph.
// The numbers and words come from Python (tinygrad_xor.backprop_steps): this script only
// shows, at step k, what steps 1..k revealed, and marks step k's Value, op, edges and inputs.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const steps = data.steps;
  const last = steps.length - 1;
  const byId = (id) => document.getElementById(id);
  const graph = byId("graph");

  // Graphviz gives each node and edge a <title>: "v3" (a Value), "v3_op" (its op),
  // "v1->v3_op" (an edge). A Value used twice by one op has two edges of one title.
  const titled = new Map();
  for (const group of graph.querySelectorAll("g.node, g.edge")) {
    const title = group.querySelector("title").textContent;
    if (!titled.has(title)) titled.set(title, []);
    titled.get(title).push(group);
  }
  const groups = (title) => titled.get(title) || [];
  // A record's last two fields are "data ..." and "grad ..." (draw_dot's order).
  const fields = data.nodes.map((node, i) => {
    const texts = groups("v" + i)[0].querySelectorAll("text");
    return { data: texts[texts.length - 2], grad: texts[texts.length - 1] };
  });

  let current = 0;

  function mark(elements, name) {
    for (const element of elements) element.classList.add(name);
  }

  function draw(k) {
    current = k;
    const step = steps[current];
    // Replay steps 1..current on a blank graph: each reveals a data or a grad.
    const computed = data.nodes.map(() => false);
    data.nodes.forEach((node, i) => {
      fields[i].data.textContent = "data ?";
      fields[i].grad.textContent = "grad ?";
    });
    for (let s = 1; s <= current; s++) {
      for (const [i, field, text] of steps[s].shows) {
        fields[i][field].textContent = field + " " + text;
        if (field === "data") computed[i] = true;
      }
    }
    for (const element of graph.querySelectorAll(".now, .inputs, .flow, .changed, .pending")) {
      element.classList.remove("now", "inputs", "flow", "changed", "pending");
    }
    data.nodes.forEach((node, i) => {
      if (!computed[i]) mark(groups("v" + i).concat(groups("v" + i + "_op")), "pending");
    });
    for (const [i, field] of step.shows) mark([fields[i][field]], "changed");
    if (step.node !== null) {
      const node = "v" + step.node;
      mark(groups(node).concat(groups(node + "_op")), "now");
      mark(groups(node + "_op->" + node), "flow");
      for (const input of data.nodes[step.node].inputs) {
        mark(groups("v" + input), "inputs");
        mark(groups("v" + input + "->" + node + "_op"), "flow");
      }
      reveal(step.node);
    }
    byId("caption").textContent = step.caption;
    byId("arithmetic").textContent = step.lines.join("\n");
    byId("counter").textContent = "step " + current + " of " + last;
  }

  // Scroll the graph so that the step's Value, op and inputs are in view (centred, when
  // they were not all in view already).
  function reveal(i) {
    const node = "v" + i;
    const parts = [node, node + "_op"].concat(data.nodes[i].inputs.map((j) => "v" + j));
    const boxes = parts.flatMap(groups).map((g) => g.getBoundingClientRect());
    const left = Math.min(...boxes.map((b) => b.left));
    const right = Math.max(...boxes.map((b) => b.right));
    const top = Math.min(...boxes.map((b) => b.top));
    const bottom = Math.max(...boxes.map((b) => b.bottom));
    const view = graph.getBoundingClientRect();
    if (left < view.left || right > view.right) {
      graph.scrollLeft += (left + right) / 2 - (view.left + view.right) / 2;
    }
    if (top < view.top || bottom > view.bottom) {
      graph.scrollTop += (top + bottom) / 2 - (view.top + view.bottom) / 2;
    }
  }


  // Zoom: 100% draws a Graphviz point (the SVG's unit) as one CSS pixel, text at 12 px.
  // A graph larger than its box scrolls there, to each step's Value.
  const svg = graph.querySelector("svg");
  const size = ["width", "height"].map((name) => parseFloat(svg.getAttribute(name)));
  const zooms = [0.4, 0.6, 0.8, 1, 1.25, 1.5, 2];
  let zoom = 1;
  function setZoom(z) {
    zoom = z;
    svg.style.width = size[0] * zoom + "px";
    svg.style.height = size[1] * zoom + "px";
    byId("zoom-level").textContent = Math.round(zoom * 100) + "%";
    byId("zoom-out").disabled = zoom === zooms[0];
    byId("zoom-in").disabled = zoom === zooms[zooms.length - 1];
  }
  const zoomBy = (by) => () => {
    setZoom(zooms[Math.max(0, Math.min(zooms.length - 1, zooms.indexOf(zoom) + by))]);
    if (steps[current].node !== null) reveal(steps[current].node);
  };
  byId("zoom-out").addEventListener("click", zoomBy(-1));
  byId("zoom-in").addEventListener("click", zoomBy(1));

  setZoom(zoom);
  stepThrough(last, draw, 700);
  // Inside Jupyter's <iframe srcdoc>, keep the frame as tall as the page, which changes with
  // a step's arithmetic and with the zoom. The body's height is the page's own; the root's
  // scrollHeight is never less than the frame, so a frame sized by it could never shrink.
  const frame = window.frameElement; // null in a browser tab, or in a frame of another origin
  if (frame) {
    const fit = () => {
      frame.style.height = Math.ceil(document.body.getBoundingClientRect().height) + "px";
    };
    new ResizeObserver(fit).observe(document.body);
  }
})();
