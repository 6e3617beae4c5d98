/** `[#####-----] 5000/10000 rows` (or another unit) on stderr: redrawn in place on a terminal, one line per update otherwise. */
export class ProgressBar {
  private lastLine = '';

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly total: number,
    private readonly width = 30,
    private readonly unit = 'rows',
  ) {}

  update(done: number): void {
    const ratio = this.total === 0 ? 1 : Math.min(done / this.total, 1);
    const filled = Math.round(ratio * this.width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${done}/${this.total} ${this.unit}`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.out.write(this.out.isTTY ? `\r${line}` : `${line}\n`);
  }

  finish(): void {
    if (this.out.isTTY && this.lastLine) this.out.write('\n');
  }
}
