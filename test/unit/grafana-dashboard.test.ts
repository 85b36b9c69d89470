import t from 'tap';
import { readFileSync } from 'node:fs';

interface Panel { type: string; title: string; repeat?: string; gridPos: { y: number }; targets?: { expr: string }[] }
interface Dashboard { panels: Panel[]; templating: { list: { name: string; query: { query: string } }[] } }

const dashboard = JSON.parse(readFileSync(new URL('../../config/grafana-dashboard.json', import.meta.url), 'utf8')) as Dashboard;

t.test('the shipped dashboard has a node variable and a row repeated per node', async (t) => {
  const node = dashboard.templating.list.find((v) => v.name === 'node');
  t.ok(node, 'a node template variable');
  t.match(node!.query.query, /^label_values\(showcase_[a-z_]+, node\)$/, 'its values come from the node label');
  const row = dashboard.panels.find((p) => p.type === 'row' && p.repeat === 'node');
  t.ok(row, 'a row repeated by node');
  const below = dashboard.panels.filter((p) => p.gridPos.y > row!.gridPos.y);
  t.ok(below.length > 0, 'the row has panels');
  for (const p of below) {
    for (const target of p.targets ?? []) t.match(target.expr, /node=~"\$node"/, `${p.title}: filtered to the row's node`);
  }
  const above = dashboard.panels.filter((p) => p.gridPos.y < row!.gridPos.y);
  for (const p of above) {
    for (const target of p.targets ?? []) t.notMatch(target.expr, /\$node/, `${p.title}: cluster-wide panels stay summed over nodes`);
  }
});
