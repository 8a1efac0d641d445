/**
 * The SQS emulator (fauxqs, step 8) and each region's queues: `orders` with a redrive policy to `orders-dlq` after
 * 5 receives, as components/queue.ts makes them on AWS. The queues are created through the SQS API, at start and
 * when a climb plans a region's queue that does not exist yet (10 → 11): the emulator keeps the messages in memory,
 * so it is never restarted under a running shop.
 */
import path from "node:path";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LocalError } from "../checks";
import { PROJECT_DIR } from "../options";
import { type Service, type ServiceContext, type ServiceStatus, relativePath } from "./service";

const NAME = "fauxqs";
/** Receives before a message goes to the dead-letter queue (components/queue.ts's maxReceiveCount). */
const MAX_RECEIVES = 5;

export class FauxqsService implements Service {
  readonly name = NAME;
  readonly tier = "queue";

  constructor(private readonly ctx: ServiceContext) {}

  private get port(): number {
    return this.ctx.plan.queue!.port;
  }

  async start(): Promise<string> {
    let ready: (() => void) | undefined;
    const listening = new Promise<void>((resolve) => (ready = resolve));
    const proc = await this.ctx.supervisor.start({
      name: NAME,
      kind: "fauxqs",
      command: process.execPath,
      args: [path.join(__dirname, "..", "fauxqs.mjs"), String(this.port)],
      env: { ...process.env, NODE_NO_WARNINGS: "1" },
      cwd: PROJECT_DIR,
      onLine: (line) => {
        if (line.includes('"fauxqs ready"')) ready?.();
      },
    });
    const failed = new Promise<never>((_, reject) =>
      proc.child?.once("exit", () => reject(new LocalError(`fauxqs ${proc.lastExit}; see ${proc.logFile}`))),
    );
    await Promise.race([listening, failed]);
    const names = await this.ensureQueues();
    const visibility = this.ctx.plan.queue!.visibilitySeconds;
    const queues = `queues ${names.join(", ")} (visibility ${visibility} s, DLQ after ${MAX_RECEIVES} receives)`;
    return `127.0.0.1:${this.port}, ${queues}`;
  }

  /** Creates the plan's queues that do not exist yet (CreateQueue is idempotent) and records their URLs. */
  async ensureQueues(): Promise<string[]> {
    const { plan, runtime } = this.ctx;
    const endpoint = `http://127.0.0.1:${this.port}`;
    const created: string[] = [];
    for (const region of plan.regions) {
      if (!region.queue) continue;
      const { name, deadLetter } = region.queue;
      const sqs = new SQSClient({
        region: region.name,
        endpoint,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      });
      try {
        const dlq = await sqs.send(
          new CreateQueueCommand({ QueueName: deadLetter, Attributes: { MessageRetentionPeriod: "1209600" } }),
        );
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
        );
        const main = await sqs.send(
          new CreateQueueCommand({
            QueueName: name,
            Attributes: {
              VisibilityTimeout: String(plan.queue!.visibilitySeconds),
              RedrivePolicy: JSON.stringify({
                deadLetterTargetArn: Attributes!.QueueArn,
                maxReceiveCount: MAX_RECEIVES,
              }),
            },
          }),
        );
        runtime.queueUrls[name] = main.QueueUrl!;
        runtime.queueUrls[deadLetter] = dlq.QueueUrl!;
        created.push(name);
      } finally {
        sqs.destroy();
      }
    }
    return created;
  }

  stop(): Promise<void> {
    return this.ctx.supervisor.stop(NAME);
  }

  async health(): Promise<boolean> {
    return Boolean(this.ctx.supervisor.processes.get(NAME)?.child);
  }

  status(): ServiceStatus[] {
    const p = this.ctx.supervisor.processes.get(NAME);
    return [
      {
        name: NAME,
        kind: "SQS emulator",
        url: `http://127.0.0.1:${this.port}`,
        pid: p?.pid,
        running: Boolean(p?.child),
        log: p ? relativePath(p.logFile) : undefined,
        note: this.ctx.plan.regions
          .map((r) => r.queue?.name)
          .filter(Boolean)
          .join(", "),
      },
    ];
  }
}
