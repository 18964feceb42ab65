// The training page: a slider over snapshots of a run. The numbers come from Python
// (tinygrad_xor.training_view): each snapshot's loss, predictions and its output over a
// grid on the input square (16 bits a point, 65535 for 1); this script only draws them.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const snapshots = data.snapshots;
  const last = snapshots.length - 1;
  const byId = (id) => document.getElementById(id);
  const n = data.resolution;
  const grids = snapshots.map((s) => {
    const bytes = atob(s.grid);
    const outputs = new Float64Array(bytes.length / 2);
    for (let i = 0; i < outputs.length; i++) {
      outputs[i] = (bytes.charCodeAt(2 * i) * 256 + bytes.charCodeAt(2 * i + 1)) / 65535;
    }
    return outputs;
  });

  // -- the decision boundary ------------------------------------------------------------
  const canvas = byId("boundary");
  const context = canvas.getContext("2d");
  const margin = { left: 34, right: 10, top: 10, bottom: 30 };
  const side = canvas.width - margin.left - margin.right;
  const toX = (x1) => margin.left + ((x1 - data.low) / (data.high - data.low)) * side;
  const toY = (x2) => margin.top + ((data.high - x2) / (data.high - data.low)) * side;
  // Blue (0), white (0.5), red (1), through light blue and light red (matplotlib's RdBu_r).
  const stops = [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]];
  function colour(output) {
    const t = output * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(t));
    return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * (t - i)));
  }
  const pixels = document.createElement("canvas");
  pixels.width = pixels.height = n;

  function drawBoundary(grid, snapshot) {
    context.save(); // restored at the end: each draw starts from the same state
    context.clearRect(0, 0, canvas.width, canvas.height);
    // One pixel per grid point, row 0 (x2 = low) at the bottom, stretched smoothly.
    const image = pixels.getContext("2d").createImageData(n, n);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const at = 4 * ((n - 1 - r) * n + c);
        image.data.set(colour(grid[r * n + c]), at);
        image.data[at + 3] = 255;
      }
    }
    pixels.getContext("2d").putImageData(image, 0, 0);
    const cell = side / (n - 1); // grid points sit on the square's edges: half a cell past
    context.save();
    context.beginPath();
    context.rect(margin.left, margin.top, side, side);
    context.clip();
    context.imageSmoothingEnabled = true;
    context.drawImage(pixels, margin.left - cell / 2, margin.top - cell / 2, side + cell, side + cell);
    drawContour(grid, cell);
    context.restore();
    context.strokeStyle = "#59636e";
    context.strokeRect(margin.left, margin.top, side, side);
    drawTicks();
    data.points.forEach(([x1, x2, target], i) => drawPoint(x1, x2, target, snapshot, i));
    context.restore();
  }

  // The 0.5 line by marching squares: in each cell, join the points where an edge crosses 0.5.
  function drawContour(grid, cell) {
    const level = 0.5;
    const at = (r, c) => grid[r * n + c];
    const x = (c) => margin.left + c * cell;
    const y = (r) => margin.top + side - r * cell;
    context.beginPath();
    for (let r = 0; r < n - 1; r++) {
      for (let c = 0; c < n - 1; c++) {
        const corners = [[r, c], [r, c + 1], [r + 1, c + 1], [r + 1, c]];
        const crossings = [];
        for (let k = 0; k < 4; k++) {
          const [r0, c0] = corners[k];
          const [r1, c1] = corners[(k + 1) % 4];
          const a = at(r0, c0) - level;
          const b = at(r1, c1) - level;
          if ((a < 0) !== (b < 0)) {
            const t = a / (a - b);
            crossings.push([x(c0 + (c1 - c0) * t), y(r0 + (r1 - r0) * t)]);
          }
        }
        for (let k = 0; k + 1 < crossings.length; k += 2) {
          context.moveTo(...crossings[k]);
          context.lineTo(...crossings[k + 1]);
        }
      }
    }
    context.strokeStyle = "#000";
    context.lineWidth = 2;
    context.stroke();
  }

  function drawTicks() {
    context.fillStyle = "#59636e";
    context.font = "12px system-ui, sans-serif";
    context.textAlign = "center";
    for (const v of [0, 0.5, 1]) {
      context.fillText(String(v), toX(v), margin.top + side + 16);
    }
    context.fillText("x1", margin.left + side / 2 + 40, margin.top + side + 16);
    context.textAlign = "right";
    for (const v of [0, 0.5, 1]) context.fillText(String(v), margin.left - 6, toY(v) + 4);
    context.fillText("x2", margin.left - 6, toY(0.5) + 24);
  }

  function drawPoint(x1, x2, target, snapshot, i) {
    const px = toX(x1);
    const py = toY(x2);
    context.lineWidth = 2;
    context.strokeStyle = "#000";
    context.fillStyle = "#fff";
    if (target > 0.5) {
      context.beginPath();
      context.arc(px, py, 8, 0, 2 * Math.PI);
      context.fill();
      context.stroke();
    } else {
      context.beginPath();
      for (const [dx, dy] of [[-6, -6], [6, -6]]) {
        context.moveTo(px + dx, py + dy);
        context.lineTo(px - dx, py - dy);
      }
      context.lineWidth = 5;
      context.strokeStyle = "#fff";
      context.stroke();
      context.lineWidth = 2.5;
      context.strokeStyle = "#000";
      context.stroke();
    }
    const text = snapshot.predictions[i] + (snapshot.right[i] ? "" : " ✗");
    context.font = "bold 13px system-ui, sans-serif";
    context.textAlign = x1 > 0.5 ? "right" : "left";
    const tx = px + (x1 > 0.5 ? -12 : 12);
    const ty = py + (x2 > 0.5 ? 20 : -12);
    context.lineWidth = 3;
    context.strokeStyle = "rgba(255, 255, 255, 0.85)";
    context.strokeText(text, tx, ty);
    context.fillStyle = "#000";
    context.fillText(text, tx, ty);
  }

  // -- the loss curve ---------------------------------------------------------------------
  const curve = byId("curve");
  const svgNS = "http://www.w3.org/2000/svg";
  const box = { left: 52, right: 24, top: 14, bottom: 44 };
  const width = Number(curve.getAttribute("width")) - box.left - box.right;
  const height = Number(curve.getAttribute("height")) - box.top - box.bottom;
  const losses = data.curve.map(([, loss]) => loss).filter((loss) => loss > 0);
  const lowest = Math.floor(Math.log10(Math.min(...losses)));
  const highest = Math.ceil(Math.log10(Math.max(...losses)));
  const decades = Math.max(1, highest - lowest);
  const curveX = (epoch) => box.left + (epoch / Math.max(1, data.epochs)) * width;
  const curveY = (loss) =>
    box.top + ((highest - Math.log10(Math.max(loss, 10 ** lowest))) / decades) * height;

  function element(name, attributes, text) {
    const made = document.createElementNS(svgNS, name);
    for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
    if (text !== undefined) made.textContent = text;
    curve.appendChild(made);
    return made;
  }
  for (let d = lowest; d <= highest; d++) {
    element("line", { class: "grid", x1: box.left, x2: box.left + width, y1: curveY(10 ** d), y2: curveY(10 ** d) });
    element("text", { x: box.left - 6, y: curveY(10 ** d) + 4, "text-anchor": "end" }, "1e" + d);
  }
  for (const epoch of [0, Math.round(data.epochs / 2), data.epochs]) {
    element("text", { x: curveX(epoch), y: box.top + height + 18, "text-anchor": "middle" }, String(epoch));
  }
  element("text", { x: box.left + width / 2, y: box.top + height + 36, "text-anchor": "middle" }, "epoch");
  element("text", { x: box.left + 6, y: box.top + 10 }, "loss");
  element("path", {
    class: "axis",
    d: `M${box.left},${box.top} V${box.top + height} H${box.left + width}`,
  });
  element("path", {
    class: "loss",
    d: data.curve.map(([e, loss], i) => (i ? "L" : "M") + curveX(e).toFixed(1) + "," + curveY(loss).toFixed(1)).join(""),
  });
  const marker = element("line", { class: "marker", y1: box.top, y2: box.top + height });
  const dot = element("circle", { class: "dot", r: 5 });

  // -- stepping -----------------------------------------------------------------------------
  let current = 0;

  function draw(k) {
    current = k;
    const snapshot = snapshots[current];
    drawBoundary(grids[current], snapshot);
    const x = curveX(snapshot.epoch);
    marker.setAttribute("x1", x);
    marker.setAttribute("x2", x);
    dot.setAttribute("cx", x);
    dot.setAttribute("cy", curveY(Number(snapshot.loss)));
    const right = snapshot.right.filter(Boolean).length;
    byId("caption").textContent =
      "epoch " + snapshot.epoch + " of " + data.epochs + ": loss " + snapshot.loss + ", " +
      right + " of " + snapshot.right.length + " right";
    byId("counter").textContent = "snapshot " + (current + 1) + " of " + snapshots.length;
  }


  stepThrough(last, draw, 250);
  if (window.frameElement) {
    window.frameElement.style.height = document.documentElement.scrollHeight + 4 + "px";
  }
})();
