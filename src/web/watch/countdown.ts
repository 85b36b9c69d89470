/** The time left until a scheduled start, in words for a countdown ("Starts in 2 d 3 h", "Starts in 04:59"). */
export function countdownText(startMs: number, nowMs: number): string {
  const left = Math.ceil((startMs - nowMs) / 1000);
  if (left <= 0) return 'Starting any moment';
  const d = Math.floor(left / 86_400);
  const h = Math.floor((left % 86_400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  if (d > 0) return `Starts in ${d} d ${h} h`;
  if (h > 0) return `Starts in ${h} h ${two(m)} min`;
  return `Starts in ${two(m)}:${two(s)}`;
}
