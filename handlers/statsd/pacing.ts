// Burst pacing for UDP. A receiver's socket buffer (net.core.rmem_default, 212992 bytes on Linux;
// Etsy's statsd asks for no other) is all that holds datagrams it has not read yet, and the kernel
// drops what does not fit, silently. One interval's samples leave at once, so the first datagrams
// go unpaced up to about half that buffer and the rest at `udp_rate`, while the receiver reads.
// The kernel counts a datagram's memory, not its payload: on loopback a 1432-byte datagram costs
// 2304 bytes, a 512-byte one 1280, an 8932-byte one 16640; 2 x payload + 768 is never below that.

/** What a datagram of `bytes` costs in a receiver's socket buffer, at most. */
export function bufferCost(bytes: number): number {
  return 2 * bytes + 768;
}

/** Of a 212992-byte buffer (rmem_default), what one burst may fill before pacing starts. */
export const BURST_COST = 96 * 1024;

export class Pacer {
  private tokens = BURST_COST;
  private last: number;
  /** Buffer cost per ms that may go once the burst is spent. */
  private readonly perMs: number;

  /**
   * `bytesPerSecond` of payload in datagrams of up to `maxPacket` bytes; 0 sends unpaced.
   * `now` is a monotonic clock in ms.
   */
  constructor(
    bytesPerSecond: number,
    maxPacket: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = (bytesPerSecond / 1000) * (bufferCost(maxPacket) / maxPacket);
    this.last = now();
  }

  get paced(): boolean {
    return this.perMs > 0;
  }

  /**
   * Takes a datagram of `bytes` and returns 0 when it may go now, else the ms to wait before
   * asking again. A datagram costlier than the whole burst goes once the burst is whole.
   */
  take(bytes: number): number {
    if (this.perMs === 0) return 0;
    const t = this.now();
    this.tokens = Math.min(BURST_COST, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
    const cost = bufferCost(bytes);
    const need = Math.min(cost, BURST_COST);
    if (this.tokens >= need) {
      this.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((need - this.tokens) / this.perMs));
  }
}
