/** Amounts are decimal strings in the API and ten-thousandths of the unit in the store: sums stay exact. */
export const AMOUNT_PATTERN = '^[0-9]{1,11}(\\.[0-9]{1,4})?$';

/** "19.99" -> 199900. The caller validated the string against AMOUNT_PATTERN. */
export function toUnits(amount: string): number {
  const [whole, frac = ''] = amount.split('.');
  return Number(whole) * 10_000 + Number(frac.padEnd(4, '0'));
}

/** 199900 -> "19.99" (at least two decimals, trailing zeros past them dropped). */
export function fromUnits(units: number): string {
  const whole = Math.floor(units / 10_000);
  let frac = String(units % 10_000).padStart(4, '0');
  while (frac.length > 2 && frac.endsWith('0')) frac = frac.slice(0, -1);
  return `${whole}.${frac}`;
}
