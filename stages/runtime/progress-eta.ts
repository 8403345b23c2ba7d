/**
 * Adds `eta_s` to a stage's progress events where they count something done of a total
 * (`{ decode: "120/800" }`, `{ epoch: "3/8" }`): the seconds left at the rate since that count was
 * first reported. The TTY shows it as an ETA beside the count; --json passes it on.
 */
export function withEta(send: (data: Record<string, unknown>) => void, now: () => number = () => performance.now()): (data: Record<string, unknown>) => void {
  const first = new Map<string, { at: number; done: number; last: number }>();
  return (data) => {
    const counted = Object.entries(data).find(([, value]) => typeof value === 'string' && /^\d+\/\d+$/.test(value));
    if (!counted) return send(data);
    const [key, value] = counted;
    const [done, total] = (value as string).split('/').map(Number) as [number, number];
    const start = first.get(key);
    if (!start || done < start.last) {
      first.set(key, { at: now(), done, last: done });
      return send(data);
    }
    start.last = done;
    const rate = (done - start.done) / ((now() - start.at) / 1000);
    send(rate > 0 && done < total ? { ...data, eta_s: Math.round((total - done) / rate) } : data);
  };
}
