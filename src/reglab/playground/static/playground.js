// reglab playground: the page. Training runs in Python (reglab's engine); this script
// only sends the controls over a WebSocket and draws what comes back on canvases.
"use strict";
const $ = (id) => document.getElementById(id);
const COLORS = ["#222222", "#d62728", "#2ca02c", "#9467bd"];
const NAMES = ["A", "B", "C", "D"];
const UNITS_PER_ROW = 8;  // hidden-unit pictures a row in a card
const CLASS = [[245, 147, 34], [8, 119, 189], [44, 160, 44], [148, 103, 189], [140, 86, 75]];
const DEFAULT = {dataset: "field", n_samples: 400, noise: 0.1, data_seed: 0, dev: true, split: null, train_size: null,
  layers: [8, 8], hidden: "relu", batch_size: null, seed: 0, record_every: 10, course_compat: false,
  columns: [{learning_rate: 0.3, init: "he", l2: 0, l1: 0, keep_prob: [1, 1], early_stopping: null, augment: null}]};
const LIVE = ["learning_rate", "l2", "l1"];
const pg = {cfg: null, sel: 0, ws: null, playing: false, data: null, last: null, history: [],
  frames: 0, frameTimes: [], options: null, drawMs: 0};
window.playground = pg;  // read by the browser tests

function message(text, isError) {
  const m = $("message");
  m.textContent = text || "";
  m.className = isError ? "error" : "";
}
function num(v) { return v === "" || v === null ? null : Number(v); }
function bytes(b64) {  // a plain loop: Uint8Array.from with a callback took a third of a frame's drawing
  const text = atob(b64), out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
function send(obj) { if (pg.ws && pg.ws.readyState === 1) pg.ws.send(JSON.stringify(obj)); }

// ---- configuration <-> controls <-> URL ------------------------------------------------
function readHash() {
  const m = location.hash.match(/^#c=(.*)$/);
  if (!m) return null;
  try {
    const c = JSON.parse(decodeURIComponent(m[1]));
    if (c && Array.isArray(c.layers) && Array.isArray(c.columns) && c.columns.length && c.columns.every((k) => k && Array.isArray(k.keep_prob))) return c;
  } catch (e) { /* reported below */ }
  pg.notice = "the link's configuration is not one the playground can read; using the default";
  return null;
}
function writeHash() { history.replaceState(null, "", "#c=" + encodeURIComponent(JSON.stringify(pg.cfg))); }
function fill(select, values, labels) {
  select.innerHTML = "";
  values.forEach((v, i) => { const o = document.createElement("option"); o.value = v; o.textContent = labels ? labels[i] : v; select.appendChild(o); });
}
function showConfig() {
  const c = pg.cfg, col = c.columns[pg.sel];
  if (![...$("dataset").options].some((o) => o.value === c.dataset)) fill2("dataset", c.dataset, c.dataset);
  $("dataset").value = c.dataset;
  const generated = pg.options.datasets.includes(c.dataset) && c.dataset !== "circles_course";
  $("n_samples").disabled = $("noise").disabled = !generated;
  $("n_samples").value = c.n_samples ?? ""; $("noise").value = c.noise ?? 0; $("noise-value").textContent = c.noise ?? "-";
  $("noise").max = c.dataset === "field" ? 0.5 : 1;
  $("data_seed").value = c.data_seed; $("train_size").value = c.train_size ?? "";
  showSplit(c);
  const layers = $("layers"); layers.innerHTML = "";
  c.layers.forEach((w, i) => {
    const inp = document.createElement("input"); inp.type = "number"; inp.min = 1; inp.max = pg.options.limits.width; inp.value = w;
    inp.title = "width of hidden layer " + (i + 1);
    inp.onchange = () => { c.layers[i] = Number(inp.value); configure(); };
    layers.appendChild(inp);
  });
  $("hidden").value = c.hidden; $("batch_size").value = c.batch_size ?? ""; $("seed").value = c.seed;
  $("record_every").value = c.record_every; $("course_compat").checked = c.course_compat;
  const tabs = $("tabs"); tabs.innerHTML = "";
  c.columns.forEach((_, i) => {
    const b = document.createElement("button"); b.type = "button"; b.textContent = NAMES[i];
    b.className = i === pg.sel ? "sel" : ""; b.onclick = () => { pg.sel = i; showConfig(); drawAll(); };
    tabs.appendChild(b);
  });
  for (const k of ["learning_rate", "l2", "l1", "early_stopping"]) $(k).value = col[k] ?? "";
  $("init").value = col.init; $("augment").value = col.augment ?? "";
  const keep = $("keep"); keep.innerHTML = "";
  col.keep_prob.forEach((p, i) => {
    const lab = document.createElement("label"); lab.textContent = "keep_prob layer " + (i + 1) + " ";
    const inp = document.createElement("input"); inp.type = "number"; inp.min = 0.05; inp.max = 1; inp.step = 0.01; inp.value = p;
    inp.className = "keep"; inp.onchange = () => { col.keep_prob[i] = Number(inp.value); live({keep_prob: col.keep_prob}); };
    lab.appendChild(inp); keep.appendChild(lab);
  });
}
function showSplit(c) {  // reglab's rule (dev on/off) or free fractions, as `reglab train --split`
  const fixed = pg.options.fixed_split.includes(c.dataset);
  $("split_mode").querySelector("option[value=custom]").disabled = fixed;
  $("split_mode").value = c.split ? "custom" : (c.dev ? "dev" : "nodev");
  $("split-custom").style.display = c.split ? "" : "none";
  if (!c.split) return;
  const pct = c.split.map((f) => Math.round(100 * f));
  $("split_test").value = pct[2]; $("split_dev").value = pct[1];
  $("split_test_value").textContent = pct[2]; $("split_dev_value").textContent = pct[1]; $("split_train_value").textContent = pct[0];
}
function setSplit(changed) {  // the two sliders; train takes the rest, at least 5%
  let test = Number($("split_test").value), dev = Number($("split_dev").value);
  if (test + dev > 95) { if (changed === "test") dev = 95 - test; else test = 95 - dev; }
  pg.cfg.split = [(100 - test - dev) / 100, dev / 100, test / 100]; pg.cfg.dev = dev > 0;
  configure();
}
function fill2(id, value, label) { const o = document.createElement("option"); o.value = value; o.textContent = label; $(id).appendChild(o); }

function configure() {
  const c = pg.cfg;
  c.columns.forEach((col) => {  // one keep_prob per hidden layer
    while (col.keep_prob.length < c.layers.length) col.keep_prob.push(col.keep_prob[col.keep_prob.length - 1] ?? 1);
    col.keep_prob.length = c.layers.length;
  });
  pg.sel = Math.min(pg.sel, c.columns.length - 1);
  writeHash(); showConfig();
  setPlaying(false);
  send({type: "configure", config: c});
}
function live(changes) {  // takes effect from the next step, training goes on
  writeHash();
  send({type: "update", column: pg.sel, changes: changes});
}
function bind() {
  const c = () => pg.cfg, col = () => pg.cfg.columns[pg.sel];
  $("dataset").onchange = (e) => {
    const v = e.target.value; c().dataset = v;
    if (pg.options.fixed_split.includes(v)) c().split = null;
    if (v === "circles_course" || !pg.options.datasets.includes(v)) { c().n_samples = null; c().noise = null; }
    else { c().n_samples = c().n_samples ?? 400; c().noise = Math.min(c().noise ?? 0.1, v === "field" ? 0.5 : 1); }
    configure();
  };
  $("noise").oninput = (e) => { $("noise-value").textContent = e.target.value; };
  for (const [id, key, conv] of [["n_samples", "n_samples", Number], ["noise", "noise", Number], ["data_seed", "data_seed", Number],
    ["train_size", "train_size", num], ["batch_size", "batch_size", num], ["seed", "seed", Number], ["record_every", "record_every", Number],
    ["hidden", "hidden", String]]) $(id).onchange = (e) => { c()[key] = conv(e.target.value); configure(); };
  $("course_compat").onchange = (e) => { c().course_compat = e.target.checked; configure(); };
  $("split_mode").onchange = (e) => {
    const mode = e.target.value;
    c().split = mode === "custom" ? (c().dev ? [0.6, 0.2, 0.2] : [0.8, 0, 0.2]) : null;
    c().dev = mode !== "nodev";
    configure();
  };
  $("split_test").oninput = (e) => { $("split_test_value").textContent = e.target.value; };
  $("split_dev").oninput = (e) => { $("split_dev_value").textContent = e.target.value; };
  $("split_test").onchange = () => setSplit("test");
  $("split_dev").onchange = () => setSplit("dev");
  for (const k of LIVE) $(k).onchange = (e) => { col()[k] = Number(e.target.value); live({[k]: col()[k]}); };
  $("init").onchange = (e) => { col().init = e.target.value; configure(); };
  $("early_stopping").onchange = (e) => { col().early_stopping = num(e.target.value); configure(); };
  $("augment").onchange = (e) => { col().augment = e.target.value.trim() || null; configure(); };
  $("add-layer").onclick = () => { if (c().layers.length < pg.options.limits.hidden_layers) { c().layers.push(4); configure(); } };
  $("remove-layer").onclick = () => { if (c().layers.length > 1) { c().layers.pop(); configure(); } };
  $("add-column").onclick = () => {
    if (c().columns.length >= pg.options.limits.columns) return message("at most " + pg.options.limits.columns + " configurations side by side", true);
    c().columns.push(JSON.parse(JSON.stringify(col()))); pg.sel = c().columns.length - 1; configure();
  };
  $("remove-column").onclick = () => { if (c().columns.length > 1) { c().columns.splice(pg.sel, 1); configure(); } };
  $("play").onclick = () => { setPlaying(!pg.playing); send({type: pg.playing ? "play" : "pause"}); };
  $("one-step").onclick = () => { setPlaying(false); send({type: "step", n: 1}); };
  $("reset").onclick = () => { setPlaying(false); send({type: "reset"}); };
  $("speed").onchange = (e) => send({type: "speed", steps: Number(e.target.value)});
  $("preset").onchange = (e) => {
    const p = pg.options.presets.find((q) => q.name === e.target.value);
    if (!p) return;
    pg.cfg = JSON.parse(JSON.stringify(p.config)); pg.sel = 0; configure();
    message(p.label + ": press play (the published figures come at step " + p.steps + "; raise the steps per update)");
  };
  $("upload").onchange = upload;
  $("gradcheck").onclick = () => { $("tool-out").textContent = "checking..."; send({type: "gradcheck", column: pg.sel}); };
  $("export-model").onclick = () => send({type: "model", column: pg.sel});
  $("export-config").onclick = () => { pg.want = "config"; send({type: "export", column: pg.sel}); };
  $("export-command").onclick = () => { pg.want = "command"; send({type: "export", column: pg.sel}); };
}
function setPlaying(on) {
  pg.playing = on;
  $("play").innerHTML = on ? "&#10074;&#10074; pause" : "&#9654; play";
  $("play").classList.toggle("playing", on);
}
async function upload(e) {
  const f = e.target.files[0];
  if (!f) return;
  const out = $("upload-msg");
  out.className = "muted"; out.textContent = "checking " + f.name + "...";
  if (f.size > pg.options.limits.upload_bytes) { out.className = "error"; out.textContent = f.name + " is larger than " + pg.options.limits.upload_bytes + " bytes, the most the playground takes"; return; }
  const r = await fetch("/api/upload", {method: "POST", headers: {"X-Filename": f.name}, body: f});
  const body = await r.json();
  if (!r.ok) { out.className = "error"; out.textContent = body.error; message(body.error, true); return; }
  out.textContent = "uploaded " + body.name;  // its split, as trained, is the data summary below
  fill2("dataset", body.id, "upload: " + body.name);
  pg.cfg.dataset = body.id; pg.cfg.n_samples = null; pg.cfg.noise = null;
  configure();
}
function download(name, blob) {
  const a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = name;
  document.body.appendChild(a); a.click(); a.remove();
}

// ---- messages from the server --------------------------------------------------------------
function onMessage(ev) {
  const m = JSON.parse(ev.data);
  if (m.type === "error") { message(m.message, true); if (/stopped/.test(m.message)) setPlaying(false); return; }
  if (m.type === "data") { pg.data = m; pg.history = m.config.columns.map(() => []); $("data-summary").textContent = m.summary; buildCards(); message(pg.notice || "", !!pg.notice); pg.notice = null; return; }
  if (m.type === "state") { onState(m); send({type: "ack"}); return; }  // drawn: the server may send the next
  if (m.type === "updated") { message(""); return; }
  $("tool-out").classList.toggle("table", m.type === "gradcheck");
  if (m.type === "gradcheck") { $("tool-out").textContent = NAMES[m.column] + " at step " + m.step + "\n" + m.text; return; }
  if (m.type === "model") { download(m.filename, new Blob([bytes(m.base64)])); $("tool-out").textContent = "saved " + m.filename + " (reglab.io.load_network reads it)"; return; }
  if (m.type === "export") {
    const notes = m.notes.length ? "\n\nnote: " + m.notes.join("\nnote: ") : "";
    if (pg.want === "config") {
      const text = JSON.stringify({page: m.page, train_config: m.train_config}, null, 2);
      download("reglab-playground-config.json", new Blob([text], {type: "application/json"}));
      $("tool-out").textContent = text + notes;
    } else $("tool-out").textContent = m.command + notes;
  }
}
function onState(m) {
  const now = performance.now();
  if (pg.playing) { pg.frames += 1; pg.frameTimes.push(now); if (pg.frameTimes.length > 40) pg.frameTimes.shift(); }
  pg.last = m;
  m.columns.forEach((s, i) => {
    const h = pg.history[i] || (pg.history[i] = []);
    if (h.length && h[h.length - 1].step > s.step) h.length = 0;  // reset: start the curves again
    if (!h.length || h[h.length - 1].step !== s.step) h.push({step: s.step, f: s.figures, norms: s.norms});
    if (h.length > 1500) pg.history[i] = h.filter((_, k) => k % 2 === 0 || k === h.length - 1);
  });
  $("step").textContent = m.columns[0].step;
  if (pg.frameTimes.length > 5) {
    const t = pg.frameTimes, fps = (t.length - 1) / ((t[t.length - 1] - t[0]) / 1000);
    $("fps").textContent = fps.toFixed(1) + " updates/s";
  }
  if (pg.playing && m.columns.every((s) => s.stop_reason)) setPlaying(false);
  const t0 = performance.now();
  drawAll();
  pg.drawMs = 0.8 * pg.drawMs + 0.2 * (performance.now() - t0);  // read by benchmarks/playground_updates.py
}

// ---- drawing -------------------------------------------------------------------------------------
function buildCards() {
  const box = $("columns"); box.innerHTML = "";
  pg.data.config.columns.forEach((col, i) => {
    const card = document.createElement("div"); card.className = "card"; card.id = "card-" + i;
    // one canvas per hidden layer, its units in rows of UNITS_PER_ROW, one pixel apart
    // (hundreds of small canvases cost the browser more to composite than the page to draw)
    const g = pg.data.unit_grid, units = pg.data.config.layers.map((w) => {
      const cols = Math.min(w, UNITS_PER_ROW), rows = Math.ceil(w / UNITS_PER_ROW);
      return '<div class="layer"><canvas data-units="' + w + '" data-cols="' + cols + '" width="' + (cols * (g + 1) - 1) +
        '" height="' + (rows * (g + 1) - 1) + '" style="width:' + (cols * 32 - 2) + "px;height:" + (rows * 32 - 2) + 'px"></canvas></div>';
    }).join("");
    card.innerHTML = '<h3 style="color:' + COLORS[i] + '">' + NAMES[i] + ": " + describe(col) + "</h3>" +
      '<canvas class="boundary" width="280" height="280"></canvas><div class="stop"></div><table class="figs"></table>' +
      '<div class="units" title="each hidden unit\'s output over the plane">' + units + "</div>" +
      '<canvas class="hist" width="280" height="70" title="histogram of the weights"></canvas>';
    card.onclick = () => { pg.sel = i; showConfig(); drawAll(); };
    box.appendChild(card);
  });
}
function describe(col) {
  const parts = [];
  if (col.l2) parts.push("L2 " + col.l2);
  if (col.l1) parts.push("L1 " + col.l1);
  if (col.keep_prob.some((p) => p < 1)) parts.push("keep " + col.keep_prob.join("/"));
  if (col.early_stopping) parts.push("early stop " + col.early_stopping);
  if (col.augment) parts.push(col.augment);
  return (parts.join(", ") || "no regularization") + " · lr " + col.learning_rate + " · " + col.init;
}
function drawAll() {
  if (!pg.last || !pg.data || pg.last.columns.length !== pg.data.config.columns.length) return;
  pg.last.columns.forEach((s, i) => drawCard(i, s));
  drawChart($("cost-chart"), "cost", (f, split) => f[split + "_cost"]);
  drawChart($("acc-chart"), "accuracy", (f, split) => f[split + "_accuracy"]);
  drawNorms($("norm-chart"));
}
function shade(p, k) {  // probability of class 1 (two classes) or class + confidence
  if (k === 2) { const c = p < 0.5 ? CLASS[0] : CLASS[1], a = Math.abs(p - 0.5) * 2 * 0.65; return c.map((v) => Math.round(255 + (v - 255) * a)); }
  const cls = Math.floor(p), conf = p - cls, c = CLASS[cls % CLASS.length];
  return c.map((v) => Math.round(255 + (v - 255) * conf * 0.65));
}
// Every frame paints thousands of cells: colours come from tables made once, and the data
// points (the same in every frame of a configuration) from one layer drawn once.
// Colours are packed as one little-endian RGBA word per pixel (the byte order of ImageData on
// every platform a browser runs on here: x86 and ARM are little-endian).
function packed(c) { return (255 << 24 | c[2] << 16 | c[1] << 8 | c[0]) >>> 0; }
function colours(k) {  // boundary code -> colour: 1000 p(class 1) (two classes), else 1000 class + 999 confidence
  pg.luts = pg.luts || {};
  return pg.luts[k] || (pg.luts[k] = Uint32Array.from({length: k === 2 ? 1001 : 1000 * k}, (_, c) => packed(shade(c / 1000, k))));
}
function unitColours() {  // int8 unit output -> colour
  return pg.unitLut || (pg.unitLut = Uint32Array.from({length: 255}, (_, v) => packed(shade(0.5 + 0.5 * (v - 127) / 127, 2))));
}
function pointsLayer(w, h) {
  if (pg.points && pg.points.data === pg.data && pg.points.canvas.width === w) return pg.points.canvas;
  const layer = document.createElement("canvas"); layer.width = w; layer.height = h;
  const ctx = layer.getContext("2d"), [x0, x1, y0, y1] = pg.data.bounds;
  for (const [split, r, stroke] of [["train", 3.2, "#fff"], ["dev", 3, "#888"], ["test", 3, "#000"]]) {
    const pts = pg.data.points[split]; if (!pts) continue;
    for (let j = 0; j < pts.y.length; j++) {
      const px = (pts.x[2 * j] - x0) / (x1 - x0) * w, py = (y1 - pts.x[2 * j + 1]) / (y1 - y0) * h;
      ctx.beginPath(); ctx.arc(px, py, r, 0, 6.283);
      ctx.fillStyle = "rgb(" + CLASS[pts.y[j] % CLASS.length].join(",") + ")"; ctx.fill();
      ctx.strokeStyle = stroke; ctx.lineWidth = 1; ctx.stroke();
    }
  }
  pg.points = {data: pg.data, canvas: layer};
  return layer;
}
function drawCard(i, s) {
  const card = $("card-" + i); if (!card) return;
  card.classList.toggle("selected", i === pg.sel);
  if (pg.cfg.columns[i]) card.querySelector("h3").textContent = NAMES[i] + ": " + describe(pg.cfg.columns[i]);
  const cv = card.querySelector("canvas.boundary"), ctx = cv.getContext("2d"), n = pg.data.boundary, k = pg.data.n_classes;
  const img = new ImageData(n, n), code = new Uint16Array(bytes(s.boundary).buffer), lut = colours(k);
  const px = new Uint32Array(img.data.buffer);
  for (let j = 0; j < n * n; j++) px[j] = lut[code[j]];
  const off = pg.off || (pg.off = document.createElement("canvas"));
  off.width = off.height = n; off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, cv.width, cv.height);
  ctx.drawImage(pointsLayer(cv.width, cv.height), 0, 0);
  const f = s.figures, fmt = (v) => (v === null || v === undefined ? "-" : v.toFixed(4));
  card.querySelector(".figs").innerHTML = "<tr><td></td><td>cost</td><td>accuracy</td></tr>" +
    ["train", "dev", "test"].filter((sp) => (sp + "_cost") in f).map((sp) => "<tr><td>" + sp + "</td><td>" + fmt(f[sp + "_cost"]) + "</td><td>" + fmt(f[sp + "_accuracy"]) + "</td></tr>").join("") +
    "<tr><td>step</td><td>" + s.step + "</td><td>epoch " + s.epoch + "</td></tr>";
  card.querySelector(".stop").textContent = (s.stop_reason || "") + (s.changed_at !== null ? " (settings changed at step " + s.changed_at + ")" : "");
  const canv = card.querySelectorAll(".units canvas"), g = pg.data.unit_grid, ulut = unitColours();
  s.units.forEach((layer, l) => {  // int8, one unit after another, each scaled to its own largest |value|
    const c = canv[l]; if (!c) return;
    const vals = new Int8Array(bytes(layer).buffer), cols = Number(c.dataset.cols), w = c.width;
    const im = new ImageData(w, c.height), px = new Uint32Array(im.data.buffer);  // gaps stay transparent
    for (let unit = 0; unit < vals.length / (g * g); unit++) {
      const at = Math.floor(unit / cols) * (g + 1) * w + (unit % cols) * (g + 1);
      for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) px[at + y * w + x] = ulut[vals[(unit * g + y) * g + x] + 127];
    }
    c.getContext("2d").putImageData(im, 0, 0);
  });
  const hc = card.querySelector("canvas.hist"), hx = hc.getContext("2d"), counts = s.histogram.counts, top = Math.max(...counts, 1);
  hx.clearRect(0, 0, hc.width, hc.height); hx.fillStyle = COLORS[i];
  const bw = hc.width / counts.length;
  counts.forEach((c, j) => { const h = (hc.height - 12) * c / top; hx.fillRect(j * bw + 0.5, hc.height - 12 - h, bw - 1, h); });
  hx.fillStyle = "#555"; hx.font = "10px sans-serif";
  hx.fillText("-" + s.histogram.range.toPrecision(2), 0, hc.height - 1); hx.fillText("0", hc.width / 2 - 3, hc.height - 1);
  hx.fillText(s.histogram.range.toPrecision(2), hc.width - 28, hc.height - 1);
}
function fit(cv) {  // the canvas's pixels follow its laid-out size (the curves panel stretches)
  const w = Math.max(200, Math.round(cv.clientWidth)), h = Math.max(100, Math.round(cv.clientHeight));
  if (cv.width !== w || cv.height !== h) { cv.width = w; cv.height = h; }
}
function axes(cv, title, xmax, ymin, ymax) {
  fit(cv);
  const ctx = cv.getContext("2d"); ctx.clearRect(0, 0, cv.width, cv.height);
  const L = 44, B = 18, W = cv.width - L - 6, H = cv.height - B - 14;
  ctx.strokeStyle = "#999"; ctx.strokeRect(L, 14, W, H); ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
  ctx.fillText(title, L, 11); ctx.fillText(ymax.toPrecision(3), 0, 22); ctx.fillText(ymin.toPrecision(3), 0, 14 + H);
  ctx.fillText("step " + xmax, L + W - 60, cv.height - 3);
  return {ctx, x: (s) => L + W * s / Math.max(xmax, 1), y: (v) => 14 + H * (1 - (v - ymin) / ((ymax - ymin) || 1))};
}
function line(a, pts, color, dash) {
  if (pts.length < 1) return;
  const c = a.ctx; c.strokeStyle = color; c.setLineDash(dash); c.lineWidth = 1.5; c.beginPath();
  pts.forEach(([s, v], j) => (j ? c.lineTo(a.x(s), a.y(v)) : c.moveTo(a.x(s), a.y(v)))); c.stroke(); c.setLineDash([]);
}
function drawChart(cv, title, get) {
  const series = [];
  pg.history.forEach((h, i) => [["train", []], ["dev", [2, 3]], ["test", [6, 3]]].forEach(([split, dash]) => {
    const pts = h.map((r) => [r.step, get(r.f, split)]).filter((p) => p[1] !== null && p[1] !== undefined && isFinite(p[1]));
    if (pts.length) series.push([pts, COLORS[i], dash]);
  }));
  const all = series.flatMap((s) => s[0]);
  if (!all.length) return;
  const xmax = Math.max(...all.map((p) => p[0])), ymax = Math.max(...all.map((p) => p[1])), ymin = Math.min(0, ...all.map((p) => p[1]));
  const a = axes(cv, title, xmax, ymin, ymax);
  series.forEach(([pts, color, dash]) => line(a, pts, color, dash));
}
function drawNorms(cv) {
  const series = [];
  pg.history.forEach((h, i) => h.length && h[0].norms.forEach((_, l) => series.push([h.map((r) => [r.step, r.norms[l]]).filter((p) => p[1] !== null && isFinite(p[1])), COLORS[i], l ? [1 + 2 * l, 2] : []])));
  const all = series.flatMap((s) => s[0]);
  if (!all.length) return;
  const a = axes(cv, "weight norms ||W1|| (solid), ||W2||, ... (dashed)", Math.max(...all.map((p) => p[0])), 0, Math.max(...all.map((p) => p[1])));
  series.forEach(([pts, color, dash]) => line(a, pts, color, dash));
}

// ---- start -------------------------------------------------------------------------------------
async function start() {
  pg.options = await (await fetch("/api/options")).json();
  const o = pg.options;
  fill($("dataset"), o.datasets.concat(o.file ? ["file"] : []), o.datasets.concat(o.file ? ["file: " + o.file] : []));
  fill($("hidden"), o.activations); fill($("init"), o.inits);
  fill($("speed"), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]); $("speed").value = 10;
  o.presets.forEach((p) => fill2("preset", p.name, p.label));
  pg.cfg = readHash() || JSON.parse(JSON.stringify(DEFAULT));
  bind(); showConfig();
  pg.ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  pg.ws.onmessage = onMessage;
  pg.ws.onopen = () => { send({type: "speed", steps: 10}); configure(); };
  pg.ws.onclose = () => { setPlaying(false); message("the connection to the playground server is closed; reload the page", true); };
}
start().catch((e) => message("could not start: " + e, true));
