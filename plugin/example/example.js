// The plugin example: load the module, then plan what the user pasted. Every
// value reaches the page through textContent, never as HTML, so names from a
// registry cannot inject markup.
import init, { version, parseReposfile, validatePolicy, plan } from '../cleanreg.js';

await init();

const $ = (id) => document.getElementById(id);
$('now').value = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
document.querySelector('[data-testid="plugin-version"]').textContent = version();

const sample = await fetch('sample-inventory.json', { cache: 'no-store' });
if (sample.ok) $('inventory').value = await sample.text();

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = false;
  $('result').hidden = true;
}

function bytes(n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (n >= 1000 && unit < units.length - 1) {
    n /= 1000;
    unit += 1;
  }
  return `${n.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.append(td);
}

function render(result) {
  const t = result.totals;
  const bound = result.reclaimable.whole_registry ? '' : 'at most ';
  $('summary').textContent =
    `${t.deleted_images} images deleted, ${t.kept_images} kept; ` +
    `${t.deleted_manifests} manifests and ${t.deleted_tags} tags go; ` +
    `garbage collection then frees ${bound}${bytes(result.reclaimable.bytes)}.`;
  const body = $('entries');
  body.replaceChildren();
  for (const entry of result.entries) {
    const row = document.createElement('tr');
    row.dataset.testid = 'plan-entry';
    row.dataset.decision = entry.decision.decision;
    row.dataset.digest = entry.digest;
    cell(row, entry.repository);
    cell(row, entry.digest.slice(0, 19), 'digest');
    cell(row, entry.tags.join(', ') || (entry.role.role === 'image' ? '' : `(${entry.role.role})`));
    cell(row, entry.created ?? 'unknown');
    cell(row, entry.decision.decision, entry.decision.decision);
    cell(row, entry.reason);
    body.append(row);
  }
  $('error').hidden = true;
  $('result').hidden = false;
}

$('plan').addEventListener('click', () => {
  try {
    const inventory = JSON.parse($('inventory').value);
    const text = $('policy').value;
    const policy = $('policy-kind').value === 'reposfile' ? parseReposfile(text) : validatePolicy(text);
    render(plan(inventory, policy, $('now').value));
  } catch (error) {
    showError(error instanceof SyntaxError ? `inventory: ${error.message}` : error.message);
  }
});
