/**
 * The SQS emulator of the app tests: fauxqs 2.4.1 (Node 22.5 or later), run by fauxqs-server.mjs in a process of
 * its own on a free 127.0.0.1 port, reached through the real @aws-sdk/client-sqs with an explicit endpoint and
 * static credentials. Each test file starts its own and makes its own queues.
 *
 * Also: a pass-through proxy that can hold back chosen SQS actions (e.g. DeleteMessage), to put a worker exactly
 * between "order confirmed" and "message deleted".
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";

// Nothing in a test may look for real AWS credentials, least of all at the instance metadata address.
process.env.AWS_EC2_METADATA_DISABLED = "true";

/** Credentials the test clients sign with; fauxqs checks none. */
export const TEST_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
export const TEST_REGION = "us-east-1";

const SERVER_SCRIPT = path.join(__dirname, "fauxqs-server.mjs");
const HOW_TO_INSTALL = "fauxqs is a devDependency (pinned to 2.4.1): run `npm ci` in the project root.";

/** An SQS client for `endpoint` with static credentials. */
export function sqsClientFor(endpoint: string): SQSClient {
  return new SQSClient({ region: TEST_REGION, endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
}

/** A queue and its dead-letter queue. */
export interface QueuePair {
  queueUrl: string;
  dlqUrl: string;
}

/** A running emulator. */
export interface Fauxqs {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  sqs: SQSClient;
  /**
   * Creates `name` and `name-dlq`, the first redriving to the second after `maxReceiveCount` receives.
   * @param options.visibilityTimeoutSeconds short in tests, so redeliveries come quickly (production: 60)
   */
  createQueuePair(
    name: string,
    options?: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number },
  ): Promise<QueuePair>;
  /** Approximate visible and in-flight message counts of a queue. */
  counts(queueUrl: string): Promise<{ visible: number; inFlight: number }>;
  /** Receives (and leaves in place until their visibility ends) up to 10 messages. */
  peek(queueUrl: string, waitSeconds?: number): Promise<Message[]>;
  stop(): Promise<void>;
}

/** Starts fauxqs on a free loopback port. */
export async function startFauxqs(): Promise<Fauxqs> {
  if (!existsSync(path.resolve(__dirname, "../../../node_modules/fauxqs/package.json")))
    throw new Error(`fauxqs is not installed. ${HOW_TO_INSTALL}`);
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT], {
    env: { PATH: process.env.PATH ?? "", FAUXQS_PORT: "0" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", (line) =>
      resolve((JSON.parse(line) as { port: number }).port),
    );
    child.once("exit", (code) =>
      reject(new Error(`fauxqs exited (${code}) before listening: ${stderr} ${HOW_TO_INSTALL}`)),
    );
    child.once("error", reject);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const sqs = sqsClientFor(endpoint);
  const attribute = async (queueUrl: string, name: string) =>
    (
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: [name as never] })))
        .Attributes as Record<string, string> | undefined
    )?.[name];
  return {
    endpoint,
    sqs,
    async createQueuePair(name, options = {}) {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
      const dlqArn = await attribute(dlq.QueueUrl!, "QueueArn");
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 2),
            RedrivePolicy: JSON.stringify({
              deadLetterTargetArn: dlqArn,
              maxReceiveCount: options.maxReceiveCount ?? 5,
            }),
          },
        }),
      );
      return { queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl! };
    },
    async counts(queueUrl) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return {
        visible: Number(Attributes?.ApproximateNumberOfMessages),
        inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
      };
    },
    async peek(queueUrl, waitSeconds = 0) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      return answer.Messages ?? [];
    },
    async stop() {
      sqs.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A proxy in front of the emulator that can hold back requests of chosen actions. */
export interface SqsProxy {
  endpoint: string;
  /** Actions (`DeleteMessage`, ...) whose requests are held, unanswered, until released. */
  hold(action: string): void;
  /** Requests held so far, by action. */
  held(action: string): number;
  /** Lets held requests through and stops holding. */
  releaseAll(): void;
  /** Answers held requests by closing their connections, and stops holding. */
  dropAll(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (the emulator's endpoint) on a free loopback port. */
export async function startSqsProxy(target: string): Promise<SqsProxy> {
  const targetUrl = new URL(target);
  const holding = new Set<string>();
  const waiting: Array<{ action: string; go: () => void; drop: () => void }> = [];
  const server = http.createServer((req, res) => {
    const action = String(req.headers["x-amz-target"] ?? "").replace(/^AmazonSQS\./, "");
    const forward = () => {
      const upstream = http.request(
        { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (holding.has(action)) {
      req.pause();
      waiting.push({ action, go: () => (req.resume(), forward()), drop: () => res.destroy() });
    } else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: (action) => holding.add(action),
    held: (action) => waiting.filter((w) => w.action === action).length,
    releaseAll() {
      holding.clear();
      for (const w of waiting.splice(0)) w.go();
    },
    dropAll() {
      holding.clear();
      for (const w of waiting.splice(0)) w.drop();
    },
    async close() {
      for (const w of waiting.splice(0)) w.drop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
