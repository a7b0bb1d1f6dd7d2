// Checks deploy/grafana/trainyard.json offline: valid JSON, a `datasource`
// variable that every panel and query uses, unique panel ids, and every
// PromQL expression parsed by promtool (written as recording rules into a
// temporary rules file that `promtool check rules` reads).
// Grafana's $__rate_interval is replaced by 5m first.
//
// Usage: node check_dashboard.mjs <dashboard.json>
// Exit: 0 ok, 1 a problem (printed), 77 promtool missing (ctest: skipped).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";

const [file] = process.argv.slice(2);
const problems = [];
let dash;
try {
  dash = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (e) {
  console.error(`${file}: not valid JSON: ${e.message}`);
  process.exit(1);
}

const vars = (dash.templating?.list ?? []).filter((v) => v.type === "datasource");
if (!vars.some((v) => v.name === "datasource" && v.query === "prometheus")) {
  problems.push("no `datasource` variable of type datasource for prometheus");
}

const panels = [];
(function walk(list) {
  for (const p of list ?? []) {
    panels.push(p);
    walk(p.panels);
  }
})(dash.panels);

const ids = new Map();
const exprs = [];
for (const p of panels) {
  if (!Number.isInteger(p.id)) problems.push(`panel "${p.title}": id is not an integer`);
  if (ids.has(p.id)) problems.push(`panel id ${p.id} used by "${ids.get(p.id)}" and "${p.title}"`);
  ids.set(p.id, p.title);
  if (p.type === "row") continue;
  if (p.datasource?.uid !== "${datasource}") problems.push(`panel ${p.id} "${p.title}": datasource is not \${datasource}`);
  if (!p.targets?.length) problems.push(`panel ${p.id} "${p.title}": no queries`);
  for (const t of p.targets ?? []) {
    if (!t.expr) problems.push(`panel ${p.id} "${p.title}" ${t.refId}: empty expr`);
    else exprs.push({ where: `panel ${p.id} "${p.title}" ${t.refId}`, expr: t.expr });
  }
}

let promtool = true;
try {
  execFileSync("promtool", ["--version"], { stdio: "ignore" });
} catch {
  promtool = false;
}
if (promtool && exprs.length) {
  // One group per query, named after its panel, so promtool's message says
  // which query it could not parse.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ty-dashboard-"));
  const rules = path.join(scratch, "dashboard_rules.yml");
  const groups = exprs.map(({ where, expr }) => ({
    name: where,
    rules: [{ record: "dashboard:check", expr: expr.replaceAll("$__rate_interval", "5m") }],
  }));
  fs.writeFileSync(rules, JSON.stringify({ groups }));
  try {
    execFileSync("promtool", ["check", "rules", rules], { stdio: "pipe" });
  } catch (err) {
    problems.push(`promtool rejects a query:\n${err.stdout}${err.stderr}`);
  }
  fs.rmSync(scratch, { recursive: true, force: true });
}

for (const p of problems) console.error(p);
if (problems.length) process.exit(1);
console.log(`${file}: ${panels.length} panels, ${exprs.length} expressions, ids unique` +
  (promtool ? ", all parsed by promtool" : ""));
if (!promtool) {
  console.log("promtool not found: expressions not parsed (install Debian's prometheus)");
  process.exit(77);
}
