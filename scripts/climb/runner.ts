/**
 * One climb run: start the shop at `from`, put the shoppers on it, climb one step at a time with a steady period
 * after each climb, and close each period with a checkpoint (every shopper's cart and history checked, every order
 * of the period looked up in the databases, the stock added up). The last checkpoint checks every order of the run.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ClimbReport } from "../local/launcher";
import { Ledger } from "./ledger";
import { type Outcome, type Row, emptyRow } from "./report";
import { Load, type ThinkTime } from "./shoppers";
import { type Snapshot, type StatusRow, checkOrders, databasesOf, readSnapshot, stockProblems } from "./verify";
import type { ClimbOptions } from "./options";

/** The launcher as the runner uses it (scripts/local/launcher.ts). */
export interface ClimbingLauncher {
  start(): Promise<void>;
  /** One step up, to `to` (the current step + 1). */
  climb(to: number): Promise<ClimbReport>;
  status(): StatusRow[];
  stop(): Promise<void>;
}

/** The secrets the runner reads from the data directory (scripts/local/plan.ts `LocalSecrets`). */
interface Secrets {
  adminToken: string;
  superuserPassword: string;
}

/** A run in progress; {@link outcome} gives what it found so far at any time (the time bound prints it). */
export class ClimbRun {
  readonly ledger = new Ledger();
  readonly rows: Row[] = [];
  private readonly startedAt = Date.now();
  private load?: Load;
  private baseline?: Snapshot;
  private secrets?: Secrets;
  private last?: { stockProblems: string[] };

  /**
   * @param options the command line's.
   * @param launcher a launcher of step `options.from` on `options.port` and `options.dataDir`, not started.
   * @param out where progress lines go. @default stdout
   * @param think the shoppers' think time. @default THINK_TIME
   */
  constructor(
    private readonly options: ClimbOptions,
    private readonly launcher: ClimbingLauncher,
    private readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly think?: ThinkTime,
  ) {}

  /** Runs the whole climb; resolves with what it found (the bars are the caller's to judge). */
  async run(): Promise<Outcome> {
    const { options } = this;
    await this.launcher.start();
    this.secrets = JSON.parse(readFileSync(path.join(options.dataDir, "secrets.json"), "utf8")) as Secrets;
    this.baseline = await readSnapshot(databasesOf(this.launcher.status()), this.secrets.superuserPassword);
    this.rows.push(emptyRow(`step ${options.from}`));
    this.load = new Load({
      entryUrl: `http://127.0.0.1:${options.port}`,
      shoppers: options.shoppers,
      adminToken: this.secrets.adminToken,
      ledger: this.ledger,
      row: () => this.rows[this.rows.length - 1],
      think: this.think,
    });
    this.out(`\nclimb: ${options.shoppers} shoppers and an admin on step ${options.from}`);
    this.load.start();
    await this.steady();
    await this.closeRow(options.from === options.to);
    for (let to = options.from + 1; to <= options.to; to++) {
      const row = emptyRow(`${to - 1} → ${to}`, to);
      this.rows.push(row);
      this.ledger.window = this.rows.length - 1;
      this.out(`\nclimb: ${row.label} under load`);
      const t0 = Date.now();
      const report = await this.launcher.climb(to);
      row.climbMs = Date.now() - t0;
      row.seamless = report.seamless;
      row.phases = report.phases;
      this.out(
        `climb: ${row.label} done in ${(row.climbMs / 1000).toFixed(1)} s` +
          ` (${report.phases.map((p) => `${p.name} ${(p.ms / 1000).toFixed(1)} s`).join(", ")})`,
      );
      await this.steady();
      await this.closeRow(to === options.to);
    }
    await this.load.stop();
    return this.outcome();
  }

  /** What the run found so far; `stoppedEarly` says why it did not finish. */
  outcome(stoppedEarly?: string): Outcome {
    const orders = [...this.ledger.orders.values()];
    return {
      rows: this.rows,
      orders: {
        acked: orders.length,
        present: orders.filter((o) => o.present === true).length,
        missing: orders.filter((o) => o.present === false).length,
        visible: orders.filter((o) => o.visible === true).length,
        invisible: orders.filter((o) => o.visible === false).length,
      },
      stockConsistent: this.last !== undefined && this.last.stockProblems.length === 0,
      stockProblems: this.last?.stockProblems ?? ["never checked"],
      elapsedMs: Date.now() - this.startedAt,
      maxMs: this.options.maxMinutes * 60_000,
      stoppedEarly,
    };
  }

  /** Stops the shoppers (the time bound calls it before stopping the launcher). */
  async stopLoad(): Promise<void> {
    await this.load?.stop();
  }

  /**
   * After a run that stopped early (an error, the time bound), with the shoppers stopped: every shopper checks its
   * cart and history once more, and every acknowledged order is looked up and the stock added up, so that the
   * report tells orders missing from orders that were never looked for.
   */
  async checkAfterStop(): Promise<void> {
    if (!this.load || !this.baseline || !this.secrets) return;
    await this.load.stop();
    await this.load.checkEveryShopper();
    const snapshot = await readSnapshot(databasesOf(this.launcher.status()), this.secrets.superuserPassword);
    for (const p of checkOrders(this.ledger.orders.values(), snapshot).slice(0, 5)) this.out(`  ✗ ${p}`);
    this.last = { stockProblems: stockProblems(this.baseline.stock, snapshot.stock) };
    this.count(this.rows.length - 1);
  }

  /** The row's carts lost and its orders acknowledged, found and seen, as the ledger has them now. */
  private count(index: number): void {
    const row = this.rows[index];
    const mine = this.ledger.ordersIn(index);
    row.ordersAcked = mine.length;
    row.ordersPresent = mine.filter((o) => o.present).length;
    row.ordersVisible = mine.filter((o) => o.visible).length;
    row.cartsLost = this.ledger.lossesIn(index).length;
  }

  private async steady(): Promise<void> {
    await new Promise((r) => setTimeout(r, this.options.dwellSeconds * 1000));
  }

  /**
   * The period's checkpoint: shoppers check their carts and histories and wait; then every order of the period
   * (of the whole run at the end) is looked up in the databases and the stock added up while nothing changes it.
   */
  private async closeRow(final: boolean): Promise<void> {
    const load = this.load!;
    const index = this.rows.length - 1;
    const row = this.rows[index];
    await load.checkpoint();
    try {
      const snapshot = await readSnapshot(databasesOf(this.launcher.status()), this.secrets!.superuserPassword);
      const problems = checkOrders(final ? this.ledger.orders.values() : this.ledger.ordersIn(index), snapshot);
      const stock = stockProblems(this.baseline!.stock, snapshot.stock);
      this.last = { stockProblems: stock };
      this.count(index);
      row.stockConsistent = stock.length === 0;
      for (const p of problems.slice(0, 5)) this.out(`  ✗ ${p}`);
      for (const p of stock.slice(0, 5)) this.out(`  ✗ stock ${p}`);
      for (const l of this.ledger.lossesIn(index).slice(0, 5))
        this.out(`  ✗ cart lost: shopper ${l.shopper} at a ${l.where}: expected ${l.expected}, found ${l.found}`);
      const invisible = this.ledger.ordersIn(index).filter((o) => !o.visible);
      for (const o of invisible.slice(0, 5)) this.out(`  ✗ order ${o.orderId} not in shopper ${o.shopper}'s history`);
      this.out(
        `checkpoint ${row.label}: ${row.requests} requests, ${row.failures} failed, ` +
          `${row.ordersAcked} orders (${row.ordersPresent} present, ${row.ordersVisible} visible), ` +
          `${row.cartsLost} carts lost, stock ${row.stockConsistent ? "consistent" : "INCONSISTENT"}`,
      );
    } finally {
      if (!final) load.resume();
    }
  }
}
