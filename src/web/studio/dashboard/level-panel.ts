/// <reference lib="dom" />
/**
 * The dashboard's level panel: the level the creator holds now and what this month still needs for
 * the next one, from GET /v1/creators/me/stats. Text goes in as text.
 */
import { api } from '../creator-api.js';

/** What GET /v1/creators/:id/stats says of levels. */
export interface LevelStats {
  level: string;
  months: Array<{ month: string; minutesStreamed: number; sales: number; level: string; progress: { nextLevel: string; minutesNeeded: number; salesNeeded: number } | null }>;
}

const NAMES: Record<string, string> = { 'a-list': 'A-List', insider: 'Insider', 'rising-star': 'Rising Star' };

/** The words for the progress to the next level (or the top). */
export function progressText(s: LevelStats): string {
  const m = s.months[s.months.length - 1];
  if (!m?.progress) return 'Top level: A-List placements on the home page.';
  const need = [m.progress.minutesNeeded > 0 ? `${m.progress.minutesNeeded} more minutes live` : '', m.progress.salesNeeded > 0 ? `${m.progress.salesNeeded} more sales` : '']
    .filter(Boolean).join(' and ');
  return need ? `${NAMES[m.progress.nextLevel]}: ${need} this month.` : `${NAMES[m.progress.nextLevel]} reached this month.`;
}

/** Loads and renders the panel into host; answers the stats read. */
export async function renderLevelPanel(host: HTMLElement, token: string): Promise<LevelStats> {
  const s = await api<LevelStats>(token, 'GET', '/v1/creators/me/stats');
  const m = s.months[s.months.length - 1];
  const level = document.createElement('p');
  level.className = 'level-now';
  level.dataset.level = s.level;
  level.textContent = `Level: ${NAMES[s.level] ?? s.level}`;
  const month = document.createElement('p');
  month.className = 'level-month';
  month.textContent = m ? `This month: ${m.minutesStreamed} minutes live, ${m.sales} sales.` : '';
  const progress = document.createElement('p');
  progress.className = 'level-progress';
  progress.textContent = progressText(s);
  host.replaceChildren(level, month, progress);
  return s;
}
