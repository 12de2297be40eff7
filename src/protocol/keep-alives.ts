// The serving side's keep-alives: sent while requests are worked on and something moved lately,
// so a busy side is not taken for a dead one, and one stuck in one operation goes silent.

export class Keepalives {
  private timer?: NodeJS.Timeout;

  constructor(private readonly send: () => void, private readonly lastProgress: () => number) {}

  /** Starts sending every `every` ms (nothing without it, or when already started). */
  start(every: number | undefined): void {
    if (this.timer || !every) return;
    this.timer = setInterval(() => {
      // A timer alone would keep a side stuck for good (a hung disk) alive in its client's eyes,
      // defeating --timeout: silence once nothing has moved for the client's --timeout.
      if (Date.now() - this.lastProgress() > 3 * every) return;
      this.send();
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
