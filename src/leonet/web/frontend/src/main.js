// leonet dashboard: draws what `leonet serve` computes. No orbital logic here: positions come
// from /dash/positions (float32 lon, lat, alt_km per satellite) and are only interpolated
// between two instants; cells, service, routes and results come from the library's endpoints;
// the console calls the control plane's REST API with the user's own token.
import { Deck, _GlobeView as GlobeView } from '@deck.gl/core';
import { GeoJsonLayer, PathLayer, PolygonLayer, ScatterplotLayer, SolidPolygonLayer } from '@deck.gl/layers';
import SatellitePointsLayer from './points.js';

const STEP_MS = 30000; // spacing of the instants fetched; the page interpolates between two
const DAY_MS = 86400000;
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const fmt = (x, d = 0) => (x === null || x === undefined ? '-' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const SHELL_COLOURS = [[255, 99, 71], [65, 182, 255], [255, 206, 84], [120, 220, 120], [200, 120, 255], [255, 140, 200], [80, 230, 220], [240, 240, 240], [255, 160, 60], [160, 160, 255]];
const STATE_COLOURS = { operational: [90, 220, 120], raising: [255, 206, 84], lowering: [255, 140, 60], deorbiting: [255, 80, 80], dtc: [80, 180, 255], unassigned: [170, 170, 190] };

const S = {
  token: sessionStorage.getItem('leonet.token') || '', who: null, index: null, view: 'constellation',
  t0: 0, t: 0, playing: false, speed: 60, colourBy: 'shell', frames: new Map(), pending: new Map(),
  colours: null, pos: null, satsDrawn: 0, selected: -1,
  cells: null, service: null, cellsDrawn: 0, covKey: '', covBusy: false, covT: null,
  route: null, routeStep: -1, resultCells: null, countries: null,
  renders: 0, lastRedrawMs: null, redrawStart: null, redrawWait: null, errors: [],
};

// ---- HTTP --------------------------------------------------------------------------------
async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {}, S.token ? { Authorization: 'Bearer ' + S.token } : {});
  if (opts.json !== undefined) { headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(opts.json); }
  const r = await fetch(path, { method: opts.method || 'GET', headers, body: opts.body });
  if (!r.ok) {
    let detail = r.statusText;
    try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
    const err = new Error(detail); err.status = r.status; throw err;
  }
  if (opts.raw) return r;
  return (r.headers.get('content-type') || '').includes('json') ? r.json() : r.arrayBuffer();
}
const status = (msg, bad = false) => { $('status').textContent = msg; $('status').className = bad ? 'err' : 'muted'; };

// ---- the globe ---------------------------------------------------------------------------
// Two stacked canvases with one view: the Earth (ocean, borders, cells, routes) redraws only
// when it changes or the view moves; the satellites above it redraw on every time step.
function canvas(z) {
  const c = document.createElement('canvas');
  c.style.cssText = `position:absolute;left:0;top:0;width:100%;height:100%;z-index:${z}`;
  $('globe').appendChild(c);
  return c;
}
S.viewState = { longitude: 121, latitude: 23.5, zoom: 1.35 };
const views = () => new GlobeView({ resolution: 10 });
const earth = new Deck({
  canvas: canvas(0), views: views(), viewState: S.viewState, controller: false, layers: [],
  parameters: { depthCompare: 'less-equal', depthWriteEnabled: true },
  onAfterRender: () => { S.earthRenders = (S.earthRenders || 0) + 1; },
});
const deck = new Deck({
  canvas: canvas(1), views: views(), viewState: S.viewState, controller: true, layers: [],
  onViewStateChange: ({ viewState }) => { setViewState(viewState); },
  onClick: (info) => { if (S.view === 'constellation') selectSatellite(nearestSatellite(info.x, info.y)); },
  onAfterRender: () => {
    S.renders += 1;
    if (S.redrawStart !== null && S.redrawWait === S.t) { S.lastRedrawMs = performance.now() - S.redrawStart; S.redrawStart = null; }
    if (S.pos && !S.culled) { redraw(false); return; } // the first frame had no viewport to hide the far side with
    if (S.firstPaint && !S.firstPaintDone && S.pos) { S.firstPaintDone = true; S.firstPaint(); }
  },
});
function setViewState(v) {
  S.viewState = v;
  earth.setProps({ viewState: v });
  deck.setProps({ viewState: v });
  if (S.pos) redraw(false);
}

// The positions to draw: those whose line of sight from the camera does not pass through the
// Earth (a sphere of deck's globe radius, 256 common units); the others become NaN.
function hideBehindEarth(pos) {
  const vp = deck.getViewports()[0];
  S.culled = !!vp;
  if (!vp) return pos;
  const [cx, cy, cz] = vp.cameraPosition, cc = cx * cx + cy * cy + cz * cz, R2 = 256 * 256;
  const out = new Float32Array(pos.length);
  for (let k = 0; k < pos.length; k += 3) {
    const [px, py, pz] = vp.projectPosition([pos[k], pos[k + 1], pos[k + 2]]);
    const dx = px - cx, dy = py - cy, dz = pz - cz, dd = dx * dx + dy * dy + dz * dz;
    const t = Math.min(1, Math.max(0, -(cx * dx + cy * dy + cz * dz) / dd));
    const hidden = t < 1 && cc + 2 * t * (cx * dx + cy * dy + cz * dz) + t * t * dd < R2;
    if (hidden || !(pos[k + 1] >= -90)) { out[k] = 0; out[k + 1] = 999; out[k + 2] = 0; } else { out[k] = pos[k]; out[k + 1] = pos[k + 1]; out[k + 2] = pos[k + 2]; }
  }
  return out;
}

// The satellite drawn nearest to a clicked pixel (within 10 px, on the visible side).
function nearestSatellite(x, y) {
  if (!S.pos) return -1;
  const vp = deck.getViewports()[0];
  const cx = S.viewState.longitude * Math.PI / 180, cy = S.viewState.latitude * Math.PI / 180;
  const cam = [Math.cos(cy) * Math.cos(cx), Math.cos(cy) * Math.sin(cx), Math.sin(cy)];
  let best = -1, bestD = 100;
  for (let i = 0; i < S.index.count; i++) {
    const lon = S.pos[3 * i], lat = S.pos[3 * i + 1];
    if (!Number.isFinite(lon)) continue;
    const a = lat * Math.PI / 180, b = lon * Math.PI / 180;
    if (Math.cos(a) * Math.cos(b) * cam[0] + Math.cos(a) * Math.sin(b) * cam[1] + Math.sin(a) * cam[2] < 0.1) continue; // far side
    const [px, py] = vp.project([lon, lat, S.pos[3 * i + 2]]);
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

function background() {
  return new SolidPolygonLayer({ id: 'ocean', data: [[[-180, 90], [0, 90], [180, 90], [180, -90], [0, -90], [-180, -90]]], getPolygon: (d) => d, getFillColor: [22, 48, 92] });
}

function earthLayers() {
  const out = [background()];
  if (S.countries) {
    out.push(new GeoJsonLayer({ id: 'countries', data: S.countries, stroked: true, filled: true, getFillColor: [58, 74, 66], getLineColor: [150, 160, 175], lineWidthMinPixels: 0.6, pickable: false }));
  }
  if ((S.view === 'coverage' && S.cells) || (S.view === 'results' && S.resultCells)) {
    const c = S.view === 'coverage' ? S.cells : S.resultCells;
    out.push(new SolidPolygonLayer({ id: 'cells', data: c.rings, getPolygon: (d) => d, getFillColor: (_, { index }) => c.colour(index), updateTriggers: { getFillColor: c.version }, parameters: { depthCompare: 'always' } }));
    if (S.view === 'coverage' && S.service && S.service.border) {
      const border = c.rings.filter((_, i) => S.service.border[i]);
      out.push(new PolygonLayer({ id: 'border', data: border, getPolygon: (d) => d, filled: false, stroked: true, getLineColor: [255, 235, 59], lineWidthMinPixels: 1.5, parameters: { depthCompare: 'always' } }));
    }
  }
  if (S.view === 'routes' && S.route && S.routeStep >= 0) {
    const st = S.route.steps[S.routeStep];
    const path = st.path.map((p) => [p[0], p[1], p[2] * 1000]);
    if (path.length) {
      out.push(new PathLayer({ id: 'route', data: [path], getPath: (d) => d, getColor: [255, 235, 59], widthMinPixels: 3 }));
      out.push(new ScatterplotLayer({ id: 'route-nodes', data: path, getPosition: (d) => d, radiusUnits: 'pixels', getRadius: 4, getFillColor: [255, 120, 40] }));
    }
  }
  return out;
}

function skyLayers() {
  const out = [];
  if (S.pos && S.view !== 'results') {
    out.push(new SatellitePointsLayer({
      id: 'satellites', data: { length: S.index.count, attributes: { getPosition: { value: hideBehindEarth(S.pos), size: 3 }, getColor: { value: S.colours, size: 4, normalized: true } } },
      pointSize: S.view === 'constellation' ? 3 : 2, updateTriggers: { getColor: S.colourBy },
    }));
    if (S.selected >= 0 && Number.isFinite(S.pos[3 * S.selected])) {
      out.push(new ScatterplotLayer({ id: 'selected', data: [[S.pos[3 * S.selected], S.pos[3 * S.selected + 1], S.pos[3 * S.selected + 2]]], getPosition: (d) => d, radiusUnits: 'pixels', getRadius: 7, stroked: true, filled: false, getLineColor: [255, 255, 255], lineWidthMinPixels: 2 }));
    }
  }
  return out;
}

// earthToo: the Earth's layers changed (cells, service, route, view), not only the time.
function redraw(earthToo = true) {
  S.satsDrawn = S.pos && S.view !== 'results' ? S.finite : 0;
  S.cellsDrawn = S.view === 'coverage' && S.cells ? S.cells.rings.length : S.view === 'results' && S.resultCells ? S.resultCells.rings.length : 0;
  if (earthToo) earth.setProps({ layers: earthLayers() });
  deck.setProps({ layers: skyLayers() });
}

// ---- satellites over time ----------------------------------------------------------------
function colours() {
  const n = S.index.count, out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    const c = S.colourBy === 'shell' ? (S.index.shell[i] < 0 ? [150, 150, 150] : SHELL_COLOURS[S.index.shell[i] % SHELL_COLOURS.length]) : (STATE_COLOURS[S.index.states[S.index.state[i]]] || [200, 200, 200]);
    out[4 * i] = c[0]; out[4 * i + 1] = c[1]; out[4 * i + 2] = c[2]; out[4 * i + 3] = 255;
  }
  S.colours = out;
}

function frame(tMs) {
  if (S.frames.has(tMs)) return Promise.resolve(S.frames.get(tMs));
  if (S.pending.has(tMs)) return S.pending.get(tMs);
  const p = api('/dash/positions?t=' + encodeURIComponent(new Date(tMs).toISOString())).then((buf) => {
    const f = new Float32Array(buf);
    S.frames.set(tMs, f); S.pending.delete(tMs);
    if (S.frames.size > 24) { const far = [...S.frames.keys()].sort((a, b) => Math.abs(b - S.t) - Math.abs(a - S.t))[0]; S.frames.delete(far); }
    return f;
  }, (e) => { S.pending.delete(tMs); throw e; });
  S.pending.set(tMs, p);
  return p;
}

// Positions at tMs from the two fetched instants around it (linear, longitude unwrapped).
function interpolate(tMs, a, b, fa, fb) {
  const n = S.index.count, out = S.posBuf && S.posBuf.length === 3 * n ? new Float32Array(3 * n) : new Float32Array(3 * n);
  const w = fb ? (tMs - a) / (b - a) : 0;
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const k = 3 * i;
    let lon = fa[k], lat = fa[k + 1], alt = fa[k + 2];
    if (fb && w > 0) {
      let dl = fb[k] - lon; if (dl > 180) dl -= 360; else if (dl < -180) dl += 360;
      lon += w * dl; if (lon > 180) lon -= 360; else if (lon < -180) lon += 360;
      lat += w * (fb[k + 1] - lat); alt += w * (fb[k + 2] - alt);
    }
    out[k] = lon; out[k + 1] = lat; out[k + 2] = alt * 1000;
    if (Number.isFinite(lon)) finite++;
  }
  S.finite = finite;
  return out;
}

async function showTime(tMs) {
  S.t = tMs;
  $('time').textContent = new Date(tMs).toISOString().replace('.000Z', 'Z');
  $('slider').value = String(Math.round((tMs - S.t0) / 1000));
  if (S.view === 'routes') routeStepAt(tMs);
  if (!S.index || !S.index.count) { redraw(); return; }
  const a = Math.floor(tMs / STEP_MS) * STEP_MS, b = a + STEP_MS;
  let fa = S.frames.get(a), fb = S.frames.get(b);
  if (!fa) fa = await frame(a);
  if (!fb) { if (tMs === a) fb = null; else fb = await frame(b); }
  if (S.t !== tMs) return; // a newer time came meanwhile
  S.pos = interpolate(tMs, a, b, fa, fb);
  frame(b + STEP_MS).catch(() => {}); // prefetch the next instant while playing
  redraw(S.view === 'routes' && S.routeStep !== S.drawnRouteStep);
  S.drawnRouteStep = S.routeStep;
  if (S.view === 'coverage') coverageAt(tMs);
}

// For tests and the benchmark: resolves after the page drew time tMs.
function setTime(iso) {
  const tMs = typeof iso === 'number' ? iso : Date.parse(iso);
  if (!Number.isFinite(tMs)) return Promise.reject(new Error('not a time: ' + iso));
  const start = performance.now();
  S.redrawStart = start; S.redrawWait = tMs;
  const before = S.renders;
  // Resolves with the ms from the call to the frame after the one drawn at tMs (so the drawing is on screen).
  return showTime(tMs).then(() => new Promise((res) => {
    const check = () => (S.renders > before && S.redrawStart === null ? requestAnimationFrame(() => res(performance.now() - start)) : requestAnimationFrame(check));
    check();
  }));
}

let lastTick = null;
function tick(now) {
  if (!S.playing) { lastTick = null; return; }
  if (lastTick !== null) {
    let t = S.t + (now - lastTick) * S.speed;
    if (t > S.t0 + DAY_MS) t = S.t0;
    showTime(Math.round(t));
  }
  lastTick = now;
  requestAnimationFrame(tick);
}
function play(on, speed) {
  if (speed) { S.speed = Number(speed); $('speed').value = String(S.speed); }
  S.playing = on === undefined ? !S.playing : on;
  $('play').innerHTML = S.playing ? '&#10074;&#10074;' : '&#9654;';
  if (S.playing) requestAnimationFrame(tick);
}

async function selectSatellite(i) {
  if (i === undefined || i < 0) return;
  S.selected = i; redraw();
  const id = S.index.norad_id[i];
  const box = $('sat-detail');
  box.innerHTML = '<p class="muted">loading ...</p>';
  try {
    const d = await api(`/dash/satellite/${id}?t=${encodeURIComponent(new Date(S.t).toISOString())}`);
    const el = Object.entries(d.elements).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${fmt(v, 4)}</td></tr>`).join('');
    const p = d.position;
    box.innerHTML = `<h3>${esc(d.name)} (NORAD ${d.norad_id})</h3>
      <p>${esc(d.intl_designator)} · shell ${d.shell} · <b>${esc(d.state)}</b><br><span class="muted">${esc(d.state_reason)}</span></p>
      <p>elements of ${esc(d.epoch_utc)}</p><table>${el}</table>
      ${p ? `<p>at ${esc(p.time_utc)}: ${fmt(p.lat_deg, 3)}°, ${fmt(p.lon_deg, 3)}°, ${fmt(p.alt_km, 1)} km</p>` : ''}
      <h3>Passes above 25°</h3>
      <label>Over <input id="pass-place" value="Taipei" size="14"></label> <label>for <input id="pass-dur" value="24h" size="4"></label>
      <button id="pass-go">Passes</button><div id="pass-list"></div>`;
    $('pass-go').onclick = () => passes(d.norad_id);
  } catch (e) { box.innerHTML = `<p class="err">${esc(e.message)}</p>`; }
}

async function passes(id) {
  const out = $('pass-list');
  out.innerHTML = '<p class="muted">searching ...</p>';
  try {
    const q = new URLSearchParams({ norad_id: id, place: $('pass-place').value, start: new Date(S.t).toISOString(), duration: $('pass-dur').value });
    const r = await api('/dash/passes?' + q);
    out.innerHTML = `<p>${r.passes.length} pass(es) over ${esc(r.place)}</p><table><tr><th>rise</th><th>culminate</th><th>max el °</th></tr>${r.passes.map((p) => `<tr><td>${esc(p.rise_utc.slice(0, 19))}</td><td>${esc(p.culminate_utc.slice(11, 19))}</td><td>${fmt(p.max_elevation_deg, 1)}</td></tr>`).join('')}</table>`;
  } catch (e) { out.innerHTML = `<p class="err">${esc(e.message)}</p>`; }
}

function legend() {
  const box = $('legend');
  if (!S.index || !S.index.count) { box.innerHTML = ''; return; }
  if (S.colourBy === 'shell') {
    box.innerHTML = '<table>' + S.index.shells.map((s) => { const c = SHELL_COLOURS[s.shell % SHELL_COLOURS.length]; return `<tr><td><span class="sw" style="background:rgb(${c})"></span>shell ${s.shell}</td><td>${fmt(s.altitude_km)} km, ${fmt(s.inclination_deg, 1)}°</td><td>${fmt(s.satellites)}</td></tr>`; }).join('') + `<tr><td><span class="sw" style="background:rgb(150,150,150)"></span>none</td><td></td><td>${fmt(S.index.shell.filter((x) => x < 0).length)}</td></tr></table>`;
  } else {
    box.innerHTML = '<table>' + Object.entries(S.index.counts).map(([k, v]) => `<tr><td><span class="sw" style="background:rgb(${STATE_COLOURS[k] || [200, 200, 200]})"></span>${esc(k)}</td><td>${fmt(v)}</td></tr>`).join('') + '</table>';
  }
}

// Turn the globe to a set of rings (cells), zoomed to their extent.
function lookAt(rings) {
  if (!rings.length) return;
  let x0 = 180, x1 = -180, y0 = 90, y1 = -90;
  for (const r of rings) for (const [x, y] of r) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  const span = Math.max(x1 - x0 > 180 ? 360 - (x1 - x0) : x1 - x0, y1 - y0, 1);
  const zoom = Math.max(1.3, Math.min(6, Math.log2(360 / span) - 0.3));
  setViewState({ ...S.viewState, longitude: x1 - x0 > 180 ? 180 : (x0 + x1) / 2, latitude: (y0 + y1) / 2, zoom });
}

// ---- coverage and service ----------------------------------------------------------------
function covQuery() {
  return { countries: $('cov-countries').value.replace(/\s+/g, ''), neighbours_km: $('cov-neighbours').value || '0', min_elevation_deg: $('cov-elev').value || '25' };
}
function cellColour(i) {
  const s = S.service;
  if (!s) return [120, 120, 120, 120];
  const inTarget = S.cells.target[i];
  const alpha = inTarget ? 200 : 110;
  if ($('cov-mode').value === 'service' && s.served) {
    if (s.served[i]) return [40, 200, 110, alpha];
    return s.active[i] ? [255, 160, 40, alpha] : [230, 50, 60, alpha];
  }
  const v = Math.min(1, s.sats_in_view[i] / 40);
  return [Math.round(30 + 225 * v), Math.round(60 + 150 * v), Math.round(200 - 150 * v), alpha];
}

// q: the query the service map will be asked for, read once by the caller, so that cells and
// service always belong to the same countries (the form may change while a request is out).
async function loadCells(q) {
  const key = JSON.stringify([q.countries, q.neighbours_km]);
  if (S.cells && S.covKey === key) return;
  status('building cells ...');
  const g = await api('/dash/cells?' + new URLSearchParams({ countries: q.countries, neighbours_km: q.neighbours_km }));
  S.cells = Object.assign(g, { version: 0, colour: cellColour });
  S.covKey = key; S.service = null; S.covT = null;
  lookAt(g.rings.filter((_, i) => g.target[i]));
  status('');
}

async function coverageAt(tMs, force = false) {
  if (!S.token) return;
  if (S.covBusy) { if (force) S.covAgain = true; return; }
  if (!force && S.covT !== null && Math.abs(tMs - S.covT) < 60000) return; // one service map per simulated minute
  S.covBusy = true;
  try {
    const q = covQuery();
    await loadCells(q);
    const tq = Math.floor(tMs / 60000) * 60000;
    const s = await api('/dash/service?' + new URLSearchParams({ countries: q.countries, neighbours_km: q.neighbours_km, min_elevation_deg: q.min_elevation_deg, t: new Date(tq).toISOString() }));
    S.service = s; S.serviceCountries = q.countries; S.serviceNeighbours = q.neighbours_km; S.covT = tq; S.cells.version += 1;
    const m = s.summary;
    $('cov-summary').innerHTML = `<p>at ${esc(s.time_utc)}${s.policy ? `<br>policy: ${esc(s.policy)}` : '<br><span class="muted">your role does not read the policy: satellites in view only</span>'}</p>
      <table><tr><td>cells</td><td>${fmt(m.cells)}</td></tr><tr><td>mean satellites in view</td><td>${fmt(m.sats_in_view_mean, 1)}</td></tr>
      <tr><td>cells with no satellite</td><td>${fmt(m.cells_no_satellite)}</td></tr>
      ${s.served ? `<tr><td>cells served</td><td id="cells-served">${fmt(m.cells_served)}</td></tr><tr><td>cells inactive</td><td>${fmt(m.cells_inactive)}</td></tr>
      <tr><td>population</td><td>${fmt(m.population)}</td></tr><tr><td>population not served</td><td>${fmt(m.population_not_served)}</td></tr>
      <tr><td>border-effect cells (yellow)</td><td>${fmt(m.border_cells)}</td></tr><tr><td>their population</td><td>${fmt(m.border_population)}</td></tr>` : ''}</table>
      <p class="muted">green served · orange active, no satellite · red inactive (policy) · yellow outline: border effect</p>`;
    redraw();
  } catch (e) { status(e.message, true); $('cov-summary').innerHTML = `<p class="err">${esc(e.message)}</p>`; S.covT = tMs; }
  finally { S.covBusy = false; if (S.covAgain) { S.covAgain = false; coverageAt(S.t, true); } }
}

// ---- operator console (the control plane's REST API, the user's own token) ------------------
async function consoleView() {
  const box = $('con-body');
  if (!S.who) { box.innerHTML = ''; return; }
  const role = S.who.role, at = new Date(S.t).toISOString();
  const parts = [`<p>${esc(S.who.name)} · <b>${esc(role)}</b>${S.who.party ? ' · ' + esc(S.who.party) : ''}${S.who.confirmed === false && (role === 'operator' || role === 'admin') ? ' · <span class="err">not confirmed by a second admin: cannot approve</span>' : ''}</p>`];
  try {
    if (role !== 'admin') {
      const [pol, states] = await Promise.all([api('/policy?at=' + encodeURIComponent(at)), api('/policy/states')]);
      parts.push(`<h3>Regions at ${esc(at.slice(0, 16))}Z</h3><table id="regions"><tr><th>region</th><th>state</th><th>name</th></tr>` +
        pol.regions.map((r) => `<tr><td>${esc(r.region)}${r.sensitive ? ' ⚑' : ''}</td><td class="${r.active === false ? 'err' : 'ok'}">${r.active === null || r.active === undefined ? 'no state (default)' : r.active ? 'active' : 'inactive'}</td><td>${esc(r.name)}</td></tr>`).join('') + '</table><p class="muted">⚑ sensitive: changes need two operators</p>');
      parts.push('<h3>States over time</h3><table><tr><th>region</th><th></th><th>from</th><th>to</th><th>by</th></tr>' +
        states.slice(-30).map((s) => `<tr><td>${esc(s.region)}</td><td>${s.active ? 'on' : 'off'}</td><td>${esc((s.valid_from || '').slice(0, 16))}</td><td>${esc((s.valid_to || '…').slice(0, 16))}</td><td>${esc(s.created_by || '')}${s.request_id ? ' #' + s.request_id : ''}</td></tr>`).join('') + '</table>');
      const reqs = await api('/requests?state=pending');
      parts.push(`<h3>Pending requests (${reqs.length})</h3><div id="requests">` + reqs.map((q) => `<div class="req" data-id="${q.id}"><b>#${q.id}</b> ${esc(q.action)} <b>${esc(q.region)}</b> by ${esc(q.filed_by)}${q.on_behalf_of ? ' for ' + esc(q.on_behalf_of) : ''}<br>
        <span class="muted">${esc(q.justification)}</span><br>approvals ${q.decisions.filter((d) => d.decision === 'approve').length}/${q.approvals_needed}${q.sensitive_zones_reached.length ? ' · reaches ' + esc(q.sensitive_zones_reached.join(', ')) : ''}
        ${role === 'operator' ? `<br><input class="reason" placeholder="reason" size="18"> <button class="approve">Approve</button> <button class="reject">Reject</button>` : ''}
        ${role === 'partner' && q.filed_by === S.who.name ? '<br><button class="withdraw">Withdraw</button>' : ''}</div>`).join('') + '</div>');
      if (role === 'partner' || role === 'operator') {
        const keys = pol.regions.map((r) => r.region);
        parts.push(`<h3>File a request</h3><div id="file-form"><label>Region <select id="f-region">${keys.map((k) => `<option>${esc(k)}</option>`).join('')}</select></label>
          <label>Action <select id="f-action"><option>deactivate</option><option>activate</option></select></label>
          <label>Justification <input id="f-just" size="30"></label><label>From (ISO, empty = now) <input id="f-from" size="22"></label><label><input id="f-backdate" type="checkbox"> backdate (a past From; recorded)</label>
          <button id="f-go">File</button> <span id="f-msg"></span></div>`);
      }
    } else {
      const users = await api('/users');
      parts.push('<h3>Users</h3><table><tr><th>name</th><th>role</th><th>active</th><th>confirmed</th></tr>' + users.map((u) => `<tr><td>${esc(u.name)}</td><td>${esc(u.role)}</td><td>${u.active ? 'yes' : 'no'}</td><td>${u.confirmed ? 'yes' : 'no'}</td></tr>`).join('') + '</table><p class="muted">Admins manage users; they do not see or decide requests.</p>');
    }
    if (role === 'auditor') {
      const [v, cp] = await Promise.all([api('/audit/verify'), api('/dash/checkpoint')]);
      const entries = await api('/audit?after=' + Math.max(0, v.head_seq - 15) + '&limit=15');
      parts.push(`<h3>Audit log</h3><p id="verify" class="${v.ok ? 'ok' : 'err'}">${v.ok ? `chain intact, tables match replay: ${fmt(v.entries)} entries, head ${v.head_seq}` : 'VERIFICATION FAILED: ' + esc(v.problem || '')}</p>
        <p>${cp.last ? `last checkpoint: entry ${cp.last.seq}, signed ${esc(cp.last.at)} (${cp.checkpoints} in file) — <span class="${cp.ok ? 'ok' : 'err'}">${cp.ok ? 'log matches every checkpoint' : esc(cp.problem)}</span>` : cp.configured ? 'no checkpoint written yet' : '<span class="muted">no checkpoint file configured (leonet serve --checkpoint-file)</span>'}</p>
        <table><tr><th>#</th><th>when</th><th>who</th><th>what</th></tr>${entries.reverse().map((e) => `<tr><td>${e.seq}</td><td>${esc((e.at || '').slice(5, 19))}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td></tr>`).join('')}</table>`);
    }
  } catch (e) { parts.push(`<p class="err">${esc(e.message)}</p>`); }
  box.innerHTML = parts.join('');
  box.querySelectorAll('.req').forEach((div) => {
    const id = div.dataset.id, reason = () => (div.querySelector('.reason') || {}).value || 'decided in the dashboard';
    const act = (op) => async () => {
      try { await api(`/requests/${id}/${op}`, { method: 'POST', json: op === 'withdraw' ? { reason: 'withdrawn in the dashboard' } : { reason: reason() } }); status(`request ${id}: ${op} done`); S.covT = null; }
      catch (e) { status(`request ${id}: ${e.message}`, true); }
      consoleView();
    };
    for (const op of ['approve', 'reject', 'withdraw']) { const b = div.querySelector('.' + op); if (b) b.onclick = act(op); }
  });
  if ($('f-go')) {
    $('f-go').onclick = async () => {
      const body = { region: $('f-region').value, action: $('f-action').value, justification: $('f-just').value || 'filed in the dashboard' };
      if ($('f-from').value.trim()) body.valid_from = $('f-from').value.trim();
      if ($('f-backdate').checked) body.backdate = true;
      try { const r = await api('/requests', { method: 'POST', json: body }); $('f-msg').textContent = `filed #${r.id}`; consoleView(); }
      catch (e) { $('f-msg').textContent = e.message; $('f-msg').className = 'err'; }
    };
  }
}

// ---- routes ------------------------------------------------------------------------------
async function routeGo() {
  const q = new URLSearchParams({ src: $('rt-src').value, dst: $('rt-dst').value, mode: $('rt-mode').value, start: new Date(S.t).toISOString(), duration: $('rt-dur').value, step: $('rt-step').value });
  $('rt-summary').innerHTML = '<p class="muted">routing ...</p>';
  try {
    S.route = await api('/dash/route?' + q);
    S.route.tMs = S.route.steps.map((s) => Date.parse(s.time_utc));
    const sm = S.route.summary[0] || {};
    const rtts = S.route.steps.map((s) => s.rtt_ms).filter((x) => x !== null);
    $('rt-summary').innerHTML = `<p>${esc(S.route.src)} → ${esc(S.route.dst)} (${esc(S.route.mode)})<br>RTT ${rtts.length ? `${fmt(Math.min(...rtts), 1)}–${fmt(Math.max(...rtts), 1)} ms` : 'unreachable'}, fibre great circle ${fmt(S.route.fibre_rtt_ms, 1)} ms<br>
      reachable ${rtts.length}/${S.route.steps.length} instants${sm.path_changes !== undefined ? `, path changes ${sm.path_changes}` : ''}</p>`;
    routeStepAt(S.t); redraw();
  } catch (e) { $('rt-summary').innerHTML = `<p class="err">${esc(e.message)}</p>`; }
}
function routeStepAt(tMs) {
  if (!S.route) return;
  let k = -1;
  for (let i = 0; i < S.route.tMs.length; i++) if (S.route.tMs[i] <= tMs) k = i;
  S.routeStep = k < 0 ? 0 : k;
  const ser = { rtt: { x: S.route.tMs, y: S.route.steps.map((s) => s.rtt_ms) } };
  chart($('rt-chart'), ser, tMs, 'RTT ms');
}

function chart(canvas, series, markX, label) {
  const g = canvas.getContext('2d'), W = canvas.width, H = canvas.height, L = 44, B = 22;
  g.clearRect(0, 0, W, H);
  const xs = [], ys = [];
  for (const s of Object.values(series)) { xs.push(...s.x.filter(Number.isFinite)); ys.push(...s.y.filter((v) => v !== null && Number.isFinite(v))); }
  if (!xs.length || !ys.length) return;
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1, y0 = Math.min(0, Math.min(...ys)), y1 = Math.max(...ys) * 1.05 || 1;
  const X = (x) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - 6), Y = (y) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - B - 8);
  g.strokeStyle = '#3a4670'; g.fillStyle = '#8a94ad'; g.font = '10px system-ui, sans-serif';
  g.beginPath(); g.moveTo(L, 4); g.lineTo(L, H - B); g.lineTo(W - 4, H - B); g.stroke();
  for (let k = 0; k <= 4; k++) { const y = y0 + (k / 4) * (y1 - y0); g.fillText(y.toFixed(y1 < 10 ? 1 : 0), 2, Y(y) + 3); }
  g.fillText(new Date(x0).toISOString().slice(11, 16), L, H - 6); g.fillText(new Date(x1).toISOString().slice(11, 16) + 'Z', W - 44, H - 6); g.fillText(label, L + 4, 12);
  Object.values(series).forEach((s, j) => {
    g.strokeStyle = `rgb(${SHELL_COLOURS[j % SHELL_COLOURS.length]})`; g.beginPath(); let on = false;
    s.x.forEach((x, i) => { const y = s.y[i]; if (y === null || !Number.isFinite(y)) { on = false; return; } if (on) g.lineTo(X(x), Y(y)); else g.moveTo(X(x), Y(y)); on = true; });
    g.stroke();
  });
  if (markX >= x0 && markX <= x1) { g.strokeStyle = '#fff'; g.beginPath(); g.moveTo(X(markX), 4); g.lineTo(X(markX), H - B); g.stroke(); }
}

// ---- scenario results --------------------------------------------------------------------
async function resultsView() {
  try {
    const r = await api('/dash/results');
    $('res-runs').innerHTML = r.root === null ? '<p class="muted">No results root: start the server with --results-root FOLDER.</p>'
      : `<h3>Runs under ${esc(r.root)}/</h3>` + (r.runs.length ? r.runs.map((x) => `<button class="run" data-run="${esc(x.run)}">${esc(x.run)}</button> `).join('') : '<p class="muted">none yet</p>');
    $('res-runs').querySelectorAll('.run').forEach((b) => { b.onclick = () => openRun(b.dataset.run); });
  } catch (e) { $('res-runs').innerHTML = `<p class="err">${esc(e.message)}</p>`; }
}
async function openRun(run) {
  S.run = run;
  const files = await api('/dash/results/files?run=' + encodeURIComponent(run));
  $('res-files').innerHTML = `<h3>${esc(run)}</h3><table>` + files.map((f) => `<tr><td><a href="#" data-name="${esc(f.name)}" data-kind="${f.kind}">${esc(f.name)}</a></td><td>${esc(f.kind)}</td><td>${fmt(f.bytes / 1024, 0)} KiB</td></tr>`).join('') + '</table>';
  $('res-files').querySelectorAll('a').forEach((a) => { a.onclick = (ev) => { ev.preventDefault(); openFile(run, a.dataset.name, a.dataset.kind); }; });
  if (files.some((f) => f.name === 'timeseries.parquet')) await seriesChart(run, 'sats_in_view_mean');
  if (files.some((f) => f.name === 'cells.parquet')) await cellMap(run, 'coverage_sats_in_view_mean');
}
async function seriesChart(run, y) {
  const s = await api('/dash/results/series?' + new URLSearchParams({ run, y }));
  const ser = {};
  for (const [k, v] of Object.entries(s.series)) ser[k] = { x: v.x.map((t) => Date.parse(t)), y: v.y };
  $('res-body').innerHTML = `<h3>Time series <select id="res-y">${s.columns.map((c) => `<option${c === y ? ' selected' : ''}>${esc(c)}</option>`).join('')}</select></h3>
    <canvas id="res-chart" width="330" height="170"></canvas><p>${Object.keys(ser).map((k, j) => `<span class="sw" style="background:rgb(${SHELL_COLOURS[j % SHELL_COLOURS.length]})"></span>${esc(k)}`).join(' ')}</p><div id="res-map"></div>`;
  chart($('res-chart'), ser, S.t, y);
  $('res-y').onchange = () => seriesChart(run, $('res-y').value).then(() => cellMap(run, S.resultColumn || 'coverage_sats_in_view_mean'));
}
async function cellMap(run, column) {
  const c = await api('/dash/results/cells?' + new URLSearchParams({ run, column }));
  const vals = c.values.filter((v) => typeof v === 'number');
  const lo = Math.min(...vals), hi = Math.max(...vals);
  S.resultColumn = column;
  S.resultCells = { rings: c.rings, version: column, colour: (i) => { const v = c.values[i]; if (typeof v !== 'number') return [90, 90, 90, 120]; const w = hi > lo ? (v - lo) / (hi - lo) : 1; return [Math.round(30 + 225 * w), Math.round(60 + 150 * w), Math.round(200 - 150 * w), 200]; } };
  const box = $('res-map') || $('res-body');
  box.innerHTML = `<h3>Map on the globe: <select id="res-col">${c.columns.filter((k) => k !== 'region').map((k) => `<option${k === column ? ' selected' : ''}>${esc(k)}</option>`).join('')}</select></h3><p class="muted">${c.rings.length} cells, ${fmt(lo, 2)} (blue) … ${fmt(hi, 2)} (yellow)</p>`;
  $('res-col').onchange = () => cellMap(run, $('res-col').value);
  if (S.lookedAt !== run) { S.lookedAt = run; lookAt(c.rings); }
  redraw();
}
async function openFile(run, name, kind) {
  const q = new URLSearchParams({ run, name });
  const ov = $('overlay'); ov.hidden = false;
  if (kind === 'table') {
    const t = await api('/dash/results/table?' + q);
    ov.innerHTML = `<button id="ov-close">close</button> <b>${esc(name)}</b> ${fmt(t.rows)} rows<div class="tablewrap"><table><tr>${t.columns.map((c) => `<th>${esc(c.name)}</th>`).join('')}</tr>${t.data.map((r) => `<tr>${r.map((v) => `<td>${esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : v)}</td>`).join('')}</tr>`).join('')}</table></div>`;
  } else if (kind === 'image') {
    const blob = await (await api('/dash/results/file?' + q, { raw: true })).blob();
    ov.innerHTML = `<button id="ov-close">close</button> <b>${esc(name)}</b><br><img alt="${esc(name)}" style="max-width:100%">`;
    ov.querySelector('img').src = URL.createObjectURL(blob);
  } else if (kind === 'report') {
    const blob = await (await api('/dash/results/file?' + q, { raw: true })).blob();
    const url = URL.createObjectURL(blob);
    ov.innerHTML = `<button id="ov-close">close</button> <b>${esc(name)}</b> <a href="${url}" target="_blank" rel="noopener">open</a>`;
  } else { ov.innerHTML = `<button id="ov-close">close</button> ${esc(name)}: open it with duckdb or pandas`; }
  $('ov-close').onclick = () => { ov.hidden = true; };
}

// ---- views and start ---------------------------------------------------------------------
function setView(v) {
  S.view = v;
  document.querySelectorAll('#tabs button').forEach((b) => b.classList.toggle('on', b.dataset.view === v));
  document.querySelectorAll('[data-panel]').forEach((p) => { p.hidden = !S.who || p.dataset.panel !== v; });
  $('overlay').hidden = true;
  if (!S.who) { redraw(); return Promise.resolve(); }
  let work = Promise.resolve();
  if (v === 'coverage') work = coverageAt(S.t, true);
  if (v === 'console') work = consoleView();
  if (v === 'results') work = resultsView();
  if (v === 'routes' && S.route) routeStepAt(S.t);
  redraw();
  return work;
}

async function signIn(token) {
  S.token = token;
  try {
    S.who = await api('/whoami');
  } catch (e) {
    S.who = null; S.token = ''; sessionStorage.removeItem('leonet.token');
    $('signin').hidden = false; $('signin-msg').textContent = e.message;
    return false;
  }
  sessionStorage.setItem('leonet.token', token);
  $('signin').hidden = true;
  $('who').innerHTML = `${esc(S.who.name)} (${esc(S.who.role)}) <button id="signout">Sign out</button>`;
  $('signout').onclick = () => { sessionStorage.removeItem('leonet.token'); location.reload(); };
  const [index, countries] = await Promise.all([api('/dash/index'), api('/dash/countries')]);
  S.index = index;
  S.countries = countries;
  $('sat-summary').textContent = index.count ? `${fmt(index.count)} satellites from ${index.sources.join(', ')}; elements ${index.epoch_first_utc.slice(0, 10)} … ${index.epoch_last_utc.slice(0, 10)}` : 'No satellites loaded: start leonet serve with --elements FILE|URL|preset:NAME.';
  if (index.count) colours();
  legend();
  const start = index.default_time_utc ? Date.parse(index.default_time_utc) : Math.floor(Date.now() / 60000) * 60000;
  S.t0 = start; $('start').value = new Date(start).toISOString().replace('.000Z', 'Z');
  await showTime(start);
  await setView(S.view);
  return true;
}

function wire() {
  document.querySelectorAll('#tabs button').forEach((b) => { b.onclick = () => setView(b.dataset.view); });
  $('slider').oninput = () => { S.redrawStart = performance.now(); const t = S.t0 + Number($('slider').value) * 1000; S.redrawWait = t; showTime(t); };
  $('slider').onchange = () => { if (S.view === 'console') consoleView(); };
  $('play').onclick = () => play();
  $('speed').onchange = () => { S.speed = Number($('speed').value); };
  $('start').onchange = () => { const t = Date.parse($('start').value); if (Number.isFinite(t)) { S.t0 = t; showTime(t); } else status('start: give an ISO time such as 2026-08-22T12:00:00Z', true); };
  $('colour-by').onchange = () => { S.colourBy = $('colour-by').value; colours(); legend(); redraw(); };
  $('cov-go').onclick = () => coverageAt(S.t, true);
  $('cov-mode').onchange = () => { if (S.cells) { S.cells.version += 1; redraw(); } };
  $('rt-go').onclick = routeGo;
  $('signin-btn').onclick = () => signIn($('token').value.trim());
}

const ready = new Promise((done) => {
  const resolve = () => { S.readyMs = performance.now(); done(); };
  wire();
  const hash = new URLSearchParams(location.hash.slice(1));
  const v = hash.get('view');
  if (v) S.view = v;
  setView(S.view);
  if (!S.token) { $('signin').hidden = false; resolve(); return; }
  S.firstPaint = null;
  signIn(S.token).then((ok) => {
    if (!ok) { resolve(); return; }
    // Resolved once the satellites (or the empty globe) have been drawn.
    if (S.renders > 0 && S.pos) { resolve(); return; }
    S.firstPaintDone = false; S.firstPaint = resolve;
    redraw();
  }, (e) => { status(e.message, true); resolve(); });
});

window.leonet = {
  ready,
  state: () => ({
    satellites_drawn: S.satsDrawn, cells_drawn: S.cellsDrawn, time_utc: S.t ? new Date(S.t).toISOString() : null, view: S.view,
    user: S.who ? S.who.name : null, role: S.who ? S.who.role : null, playing: S.playing, speed: S.speed, renders: S.renders,
    last_redraw_ms: S.lastRedrawMs, ready_ms: S.readyMs ?? null, sample: S.pos ? Array.from(S.pos.slice(0, 9)) : [],
    selected_norad_id: S.selected >= 0 && S.index ? S.index.norad_id[S.selected] : null,
    cells_served: S.service && S.service.summary ? S.service.summary.cells_served : null,
    coverage_countries: S.service ? S.serviceCountries : null, coverage_neighbours_km: S.service ? S.serviceNeighbours : null,
    route_steps: S.route ? S.route.steps.length : 0,
    route_points: S.route && S.routeStep >= 0 ? S.route.steps[S.routeStep].path.length : 0,
  }),
  setTime, setView, play, signIn, selectSatellite,
  // Where satellite i is drawn, in CSS pixels from the globe's corner (null: behind the Earth or not drawn).
  screenOf: (i) => {
    const vp = deck.getViewports()[0];
    if (!vp || !S.pos) return null;
    const p = hideBehindEarth(S.pos.subarray(3 * i, 3 * i + 3));
    return p[1] > 90 ? null : vp.project([p[0], p[1], p[2]]).slice(0, 2);
  },
};
