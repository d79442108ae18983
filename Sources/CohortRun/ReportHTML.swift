import CohortCore

/// `cohort report`: one self-contained HTML file (no network fetches): a
/// zoomable timeline of every attempt on every worker slot, slot use over
/// time, per-stage durations and memory, and the grouped failures. The data
/// goes in as columns of JSON and the page draws it on canvases, so 100,000
/// attempts stay usable.
enum ReportHTML {
    static let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
                          "#9c755f", "#bab0ac", "#86bcb6", "#d4a6c8", "#a0cbe8", "#8cd17d"]

    static func render(_ data: TimelineData, failures: [FailureGroup], jobFile: String) -> String {
        let origin = data.run.start
        let job = data.graph.job
        func column<T>(_ values: [T], _ value: (T) -> Double) -> JSONValue { .array(values.map { .number(value($0)) }) }
        /// Seconds to the millisecond: enough for a timeline, smaller JSON.
        func toMillisecond(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
        let workerIndex = data.workerIndex
        let rows = data.spans.indices.map { Double(data.workers[workerIndex[data.spans[$0].rank]!].firstRow + data.lanes[$0]) }
        let outcomes = data.spans.map { span -> Double in
            switch span.outcome {
            case .succeeded?: 0
            case .interrupted?, .lost?: 2
            case nil: 3
            default: 1
            }
        }
        var stats: [JSONValue] = []
        for (index, stage) in job.stages.enumerated() {
            let mine = data.spans.indices.filter { data.stages[$0] == index && !data.spans[$0].heldOnly }.map { data.spans[$0] }
            guard !mine.isEmpty else { continue }
            var used = StageResources()
            for span in mine { used.add(wallSeconds: span.end - span.start, peakMemoryKiB: Int64(span.peakMemoryKiB)) }
            stats.append(.object([
                "stage": .string(stage.name), "attempts": .number(Double(used.attempts)),
                "failed": .number(Double(mine.filter { $0.outcome?.isFailure == true }.count)),
                "medianWall": .number(toMillisecond(used.medianWallSeconds ?? 0)), "maxWall": .number(toMillisecond(used.maxWallSeconds ?? 0)),
                "medianMemoryKiB": .number(Double(used.medianPeakMemoryKiB ?? 0)), "maxMemoryKiB": .number(Double(used.maxPeakMemoryKiB ?? 0)),
            ]))
        }
        let payload = JSONValue.object([
            "study": .string(job.study), "jobFile": .string(jobFile), "run": .number(Double(data.runNumber)),
            "start": .number(origin), "duration": .number(toMillisecond(data.run.end - origin)), "ended": .bool(data.run.ended),
            "slots": .number(Double(data.slots)),
            "workers": .array(data.workers.map { .object(["rank": .number(Double($0.rank)), "host": .string($0.host),
                                                           "lanes": .number(Double($0.lanes)), "firstRow": .number(Double($0.firstRow))]) }),
            "stages": .array(job.stages.enumerated().map { .object(["name": .string($1.name), "domain": .string($1.domain.rawValue),
                                                                      "color": .string(palette[$0 % palette.count])]) }),
            "spans": .object([
                "name": .array(data.spans.map { .string($0.instance) }),
                "stage": column(data.stages) { Double($0) }, "row": .array(rows.map { .number($0) }),
                "start": column(data.spans) { toMillisecond($0.start - origin) }, "duration": column(data.spans) { toMillisecond($0.end - $0.start) },
                "outcome": .array(outcomes.map { .number($0) }), "attempt": column(data.spans) { Double($0.attempt) },
                "memoryKiB": column(data.spans) { Double($0.peakMemoryKiB) },
                "host": .array(data.spans.map { .string("rank \($0.rank) on \($0.host)") }),
                // A multi-node attempt drawn again on another worker it held: counted once.
                "held": column(data.spans) { $0.heldOnly ? 1 : 0 },
            ]),
            "util": .object(["time": column(data.samples) { toMillisecond($0.time - origin) }, "running": column(data.samples) { Double($0.running) },
                             "ready": column(data.samples) { Double($0.ready) }]),
            "stats": .array(stats),
            "failures": .array(failures.map { group in
                .object(["stage": .string(group.stage), "count": .number(Double(group.members.count)),
                         "outcome": .string(group.members[0].failure.outcome.text), "cause": .string(group.members[0].cause ?? ""),
                         "lastLine": .string(group.members[0].lastLine), "logs": .string(group.members[0].logFolder),
                         "instances": .array(group.members.prefix(10).map { .string($0.name) })])
            }),
        ]).text
        // No `<` at all in the data: nothing in it (`</script>`, `<!--`) can
        // end or confuse the script element it sits in. `<` only occurs in strings.
        let safe = payload.replacingAll("<", with: "\\u003c")
        return template.replacingAll("/*DATA*/", with: safe)
    }

    static let template = #"""
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Cohort report</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 4px} h2{font-size:15px;margin:18px 0 6px}
#timeline,#util{display:block;width:100%;border:1px solid #ccc;cursor:grab}
#legend span{display:inline-block;margin-right:12px} #legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
table{border-collapse:collapse} td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:right} td:first-child,th:first-child{text-align:left}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #888;padding:4px 6px;display:none;white-space:pre;font-size:12px}
.muted{color:#777} #errors{color:#b00}
</style></head><body>
<h1 id="title">Cohort report</h1><div id="summary" class="muted"></div>
<div id="errors"></div>
<h2>Timeline <span class="muted">(wheel: zoom, drag: pan, double-click: whole run)</span></h2>
<div id="legend"></div><canvas id="timeline"></canvas>
<h2>Slots in use</h2><canvas id="util" height="120"></canvas>
<h2>Stages</h2><table id="stats"></table>
<h2>Failures <span class="muted">(instances whose last attempt in this run failed)</span></h2><div id="failures"></div>
<div id="tip"></div><div id="state" class="muted"></div>
<script id="data" type="application/json">/*DATA*/</script>
<script>
"use strict";
window.onerror = function (message) { document.getElementById("errors").textContent += "error: " + message + "\n"; };
const D = JSON.parse(document.getElementById("data").textContent);
const S = D.spans, N = S.name.length, A = N - S.held.filter(h => h).length, LEFT = 150, ROW = 14, AXIS = 18;
const rows = D.workers.reduce((n, w) => n + w.lanes, 0);
const fmt = s => s >= 3600 ? (s / 3600).toFixed(1) + "h" : s >= 60 ? Math.floor(s / 60) + "m" + String(Math.round(s % 60)).padStart(2, "0") + "s" : s >= 10 ? Math.round(s) + "s" : s.toFixed(2) + "s";
const mem = k => k >= 1048576 ? (k / 1048576).toFixed(1) + "G" : k >= 1024 ? (k / 1024).toFixed(1) + "M" : k + "K";
const esc = t => String(t).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
document.getElementById("title").textContent = "Cohort report: study " + D.study + ", run " + D.run;
const failed = S.outcome.filter((o, i) => o === 1 && !S.held[i]).length;
document.getElementById("summary").textContent = new Date(D.start * 1000).toLocaleString() + " · " + fmt(D.duration) +
  (D.ended ? "" : " (no end recorded: running, or killed)") + " · " + A + " attempts, " + failed + " failed · " +
  D.workers.length + " workers, " + D.slots + " slots";
document.getElementById("legend").innerHTML = D.stages.map(s => '<span><i style="background:' + s.color + '"></i>' + esc(s.name) + " (" + s.domain + ")</span>").join("") +
  '<span><i style="background:#d62728"></i>failed</span><span><i style="background:#bbb"></i>interrupted, running or cut short</span>';
// Per row, the spans sorted by start: hit-testing for the tooltip.
const byRow = Array.from({length: rows}, () => []);
for (let i = 0; i < N; i++) byRow[S.row[i]].push(i);
byRow.forEach(list => list.sort((a, b) => S.start[a] - S.start[b]));
// Loops, not Math.max(...array): spreading 100,000 values overflows the stack.
const largest = (values, start) => { let m = start; for (const v of values) if (v > m) m = v; return m; };
let end = Math.max(D.duration, 0.001);
for (let i = 0; i < N; i++) end = Math.max(end, S.start[i] + S.duration[i]);
let view = [0, end];
const canvas = document.getElementById("timeline"), util = document.getElementById("util");
// Canvas heights are limited (32,767 px in Chromium): lanes get thinner when there are many.
const ROWH = Math.max(2, Math.min(ROW, Math.floor(16000 / Math.max(1, rows))));
const HEIGHT = AXIS + rows * ROWH + 2;
canvas.style.height = HEIGHT + "px"; util.style.height = "120px";
function x(t, width) { return LEFT + (t - view[0]) / (view[1] - view[0]) * (width - LEFT); }
function draw() {
  const ratio = window.devicePixelRatio || 1;
  for (const c of [canvas, util]) { c.width = c.clientWidth * ratio; c.height = c.clientHeight * ratio; }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  const w = canvas.clientWidth;
  g.clearRect(0, 0, w, HEIGHT);
  g.font = "11px system-ui"; g.fillStyle = "#444";
  for (const worker of D.workers) {
    const y = AXIS + worker.firstRow * ROWH;
    g.fillText("rank " + worker.rank + " " + worker.host, 4, y + 11);
    g.fillStyle = "#eee"; g.fillRect(LEFT, y, w - LEFT, 1); g.fillStyle = "#444";
  }
  const step = niceStep((view[1] - view[0]) / 8);
  for (let t = Math.ceil(view[0] / step) * step; t <= view[1]; t += step) {
    const px = x(t, w); g.fillStyle = "#ddd"; g.fillRect(px, AXIS - 4, 1, HEIGHT); g.fillStyle = "#444"; g.fillText(fmt(t), px + 2, 11);
  }
  for (let i = 0; i < N; i++) {
    const s = S.start[i], d = S.duration[i];
    if (s + d < view[0] || s > view[1]) continue;
    const x0 = x(s, w), x1 = x(s + d, w);
    g.fillStyle = S.outcome[i] === 1 ? "#d62728" : S.outcome[i] >= 2 ? "#bbb" : (D.stages[S.stage[i]] || {color: "#999"}).color;
    g.fillRect(Math.max(LEFT, x0), AXIS + S.row[i] * ROWH + (ROWH > 4 ? 1 : 0), Math.max(1, x1 - Math.max(LEFT, x0)), ROWH > 4 ? ROWH - 2 : ROWH);
  }
  drawUtil();
}
function niceStep(raw) { const p = Math.pow(10, Math.floor(Math.log10(raw || 1))); return [1, 2, 5, 10].map(m => m * p).find(s => s >= raw) || p * 10; }
function drawUtil() {
  const ratio = window.devicePixelRatio || 1, g = util.getContext("2d"), w = util.clientWidth, h = util.clientHeight;
  g.setTransform(ratio, 0, 0, ratio, 0, 0); g.clearRect(0, 0, w, h);
  const top = largest(D.util.ready, largest(D.util.running, Math.max(D.slots, 1)));
  const y = v => h - 4 - v / top * (h - 16);
  g.strokeStyle = "#999"; g.setLineDash([4, 3]); g.beginPath(); g.moveTo(LEFT, y(D.slots)); g.lineTo(w, y(D.slots)); g.stroke(); g.setLineDash([]);
  for (const [key, color] of [["ready", "#f28e2b"], ["running", "#4e79a7"]]) {
    g.strokeStyle = color; g.beginPath(); g.moveTo(LEFT, y(0));
    D.util.time.forEach((t, i) => { g.lineTo(Math.max(LEFT, x(t, w)), g.currentY || y(0)); g.lineTo(Math.max(LEFT, x(t, w)), y(D.util[key][i])); g.currentY = y(D.util[key][i]); });
    g.lineTo(w, g.currentY || y(0)); g.stroke(); g.currentY = undefined;
  }
  g.fillStyle = "#444"; g.font = "11px system-ui";
  // The scale: the top of the chart and the slots line.
  g.fillStyle = "#777"; g.fillText(String(top), LEFT - 4 - g.measureText(String(top)).width, y(top) + 4);
  g.fillText("0", LEFT - 10, y(0)); g.fillStyle = "#444";
  g.fillText("slots (cpus) " + D.slots + " (dashed)", 4, 12); g.fillStyle = "#4e79a7"; g.fillText("running (cpus)", 4, 26); g.fillStyle = "#f28e2b"; g.fillText("ready, waiting (instances)", 4, 40);
}
let drag = null;
canvas.addEventListener("wheel", e => {
  e.preventDefault();
  const w = canvas.clientWidth, t = view[0] + (e.offsetX - LEFT) / (w - LEFT) * (view[1] - view[0]);
  const f = e.deltaY > 0 ? 1.25 : 0.8;
  view = [Math.max(0, t - (t - view[0]) * f), Math.min(end, t + (view[1] - t) * f)];
  draw();
}, {passive: false});
canvas.addEventListener("mousedown", e => { drag = {x: e.clientX, view: view.slice()}; });
window.addEventListener("mouseup", () => { drag = null; });
canvas.addEventListener("dblclick", () => { view = [0, end]; draw(); });
const tip = document.getElementById("tip");
canvas.addEventListener("mousemove", e => {
  const w = canvas.clientWidth, span = view[1] - view[0];
  if (drag) {
    const shift = (drag.x - e.clientX) / (w - LEFT) * span;
    const move = Math.max(-drag.view[0], Math.min(end - drag.view[1], shift));
    view = [drag.view[0] + move, drag.view[1] + move]; draw(); return;
  }
  const row = Math.floor((e.offsetY - AXIS) / ROWH), t = view[0] + (e.offsetX - LEFT) / (w - LEFT) * span;
  const hit = (byRow[row] || []).find(i => S.start[i] <= t && t <= S.start[i] + S.duration[i]);
  if (hit === undefined || e.offsetX < LEFT) { tip.style.display = "none"; return; }
  const outcome = ["done", "failed", "interrupted", D.ended ? "cut short" : "running, or cut short"][S.outcome[hit]];
  tip.textContent = S.name[hit] + "\n" + S.host[hit] + ", attempt " + S.attempt[hit] + "\n" + outcome + " after " + fmt(S.duration[hit]) +
    " (from " + fmt(S.start[hit]) + ")\npeak memory " + mem(S.memoryKiB[hit]);
  tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px"; tip.style.display = "block";
});
canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
document.getElementById("stats").innerHTML = "<tr><th>stage</th><th>attempts</th><th>failed</th><th>wall median</th><th>max</th><th>memory median</th><th>max</th></tr>" +
  D.stats.map(s => "<tr><td>" + esc(s.stage) + "</td><td>" + s.attempts + "</td><td>" + s.failed + "</td><td>" + fmt(s.medianWall) + "</td><td>" + fmt(s.maxWall) +
    "</td><td>" + mem(s.medianMemoryKiB) + "</td><td>" + mem(s.maxMemoryKiB) + "</td></tr>").join("");
document.getElementById("failures").innerHTML = D.failures.length === 0 ? '<p class="muted">None.</p>' : "<table><tr><th>stage</th><th>count</th><th>outcome</th><th>cause</th><th>last line</th><th>instances</th></tr>" +
  D.failures.map(f => "<tr><td>" + esc(f.stage) + "</td><td>" + f.count + "</td><td>" + esc(f.outcome) + "</td><td>" + esc(f.cause) + "</td><td>" + esc(f.lastLine) +
    "</td><td>" + esc(f.instances.join(", ")) + (f.count > f.instances.length ? " …" : "") + '<br><span class="muted">' + "logs in " + esc(f.logs) + "/</span></td></tr>").join("") + "</table>";
window.addEventListener("resize", draw);
draw();
document.getElementById("state").textContent = "rendered " + A + " attempts";
</script></body></html>
"""#
}

extension String {
    /// Every occurrence of `target` replaced (the standard library's
    /// `replacing` needs Foundation-free regex support; this is plain).
    func replacingAll(_ target: String, with replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
