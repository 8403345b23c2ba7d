/** Capacities in thousandths so that 0.5 + 0.5 is exactly one device. */
const UNIT = 1000;

export interface GpuLease {
  /** Device ids for CUDA_VISIBLE_DEVICES, or undefined to leave the environment alone. */
  ids: string[] | undefined;
  release(): void;
}

interface Waiter {
  need: number;
  grant: (lease: GpuLease) => void;
}

/**
 * Hands out GPUs to stages: `gpu: N` takes N whole devices, a fraction packs onto a device
 * that already has room (best fit). Without `--gpus`, one anonymous default device, so GPU
 * stages run one at a time and the environment is left as it is.
 */
export class GpuPool {
  private readonly free: number[];
  private readonly waiting: Waiter[] = [];

  constructor(private readonly devices: string[] | undefined) {
    this.free = (devices ?? ['default']).map(() => UNIT);
  }

  get size(): number {
    return this.free.length;
  }

  acquire(amount: number): Promise<GpuLease> {
    if (amount <= 0) return Promise.resolve({ ids: undefined, release: () => {} });
    const need = Math.round(amount * UNIT);
    return new Promise((grant) => {
      this.waiting.push({ need, grant });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const waiter = this.waiting[i];
      const picked = this.pick(waiter.need);
      if (!picked) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      const shares = picked.map((device) => [device, waiter.need >= UNIT ? UNIT : waiter.need] as const);
      for (const [device, share] of shares) this.free[device] -= share;
      let released = false;
      waiter.grant({
        ids: this.devices ? picked.map((d) => this.devices![d]) : undefined,
        release: () => {
          if (released) return;
          released = true;
          for (const [device, share] of shares) this.free[device] += share;
          this.dispatch();
        },
      });
    }
  }

  private pick(need: number): number[] | undefined {
    if (need >= UNIT) {
      const whole = Math.ceil(need / UNIT);
      const idle = this.free.map((f, i) => [f, i] as const).filter(([f]) => f === UNIT).map(([, i]) => i);
      return idle.length >= whole ? idle.slice(0, whole) : undefined;
    }
    let best: number | undefined;
    this.free.forEach((f, i) => {
      if (f >= need && (best === undefined || f < this.free[best])) best = i;
    });
    return best === undefined ? undefined : [best];
  }
}
