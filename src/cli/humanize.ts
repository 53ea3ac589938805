// Durations and sizes the way oc prints them (docker/go-units HumanDuration and HumanSize).

/** go-units HumanDuration: "Less than a second", "About a minute", "3 days", "2 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** "<duration> ago" for a timestamp, relative to `now`; `<unknown>` without one. */
export function ago(time: string | null | undefined, now: number = Date.now()): string {
  if (!time) return '<unknown>';
  const at = Date.parse(time);
  if (Number.isNaN(at)) return '<unknown>';
  return `${humanDuration(Math.max(0, now - at))} ago`;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSize as oc 3.x printed it: four significant digits, decimal units, a space. */
export function humanSize(bytes: number): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  // `%.4g`: four significant digits, trailing zeros dropped.
  return `${Number(size.toPrecision(4))} ${DECIMAL_UNITS[unit]}`;
}
