import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Statement } from "./iam";
import { requireRange } from "./validate";

/** Arguments for {@link Queue}. */
export interface QueueArgs {
  /**
   * Seconds a received message stays invisible to other workers. Sized to the work: a worker confirms an order in
   * well under 10 s, so 60 s leaves room for a slow database without letting a crashed worker hold an order long.
   * @default 60
   */
  visibilityTimeoutSeconds?: number;
  /**
   * Receives before a message is moved to the dead-letter queue.
   * @default 5
   */
  maxReceiveCount?: number;
  /**
   * Days the dead-letter queue keeps a message (SQS's maximum is 14).
   * @default 14
   */
  deadLetterRetentionDays?: number;
}

/**
 * Step 8's orders queue: SQS with server-side encryption (SSE-SQS), long polling (20 s, fewer empty receives), a
 * dead-letter queue that keeps poison messages 14 days and admits redrive only from this queue, and a policy that
 * refuses plain HTTP. Senders and consumers get separate, explicit IAM statements: the web tier may only send, the
 * workers may only receive, delete and change visibility.
 *
 * Cost: $0.40 per million requests after the first million each month.
 */
export class Queue extends pulumi.ComponentResource {
  public readonly queue: aws.sqs.Queue;
  public readonly deadLetterQueue: aws.sqs.Queue;
  public readonly url: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  public readonly name: pulumi.Output<string>;
  public readonly deadLetterName: pulumi.Output<string>;
  public readonly visibilityTimeoutSeconds: number;
  /** For producers: send only. */
  public readonly sendStatements: Statement[];
  /** For consumers: receive, delete, change visibility. */
  public readonly consumeStatements: Statement[];

  constructor(name: string, args: QueueArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:queue:Queue", name, {}, opts);
    this.visibilityTimeoutSeconds = args.visibilityTimeoutSeconds ?? 60;
    requireRange("Queue", "visibilityTimeoutSeconds", this.visibilityTimeoutSeconds, 10, 43200);
    const maxReceiveCount = args.maxReceiveCount ?? 5;
    requireRange("Queue", "maxReceiveCount", maxReceiveCount, 1, 1000);
    const dlqDays = args.deadLetterRetentionDays ?? 14;
    requireRange("Queue", "deadLetterRetentionDays", dlqDays, 1, 14);

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { sqsManagedSseEnabled: true, messageRetentionSeconds: dlqDays * 86400, receiveWaitTimeSeconds: 20 },
      { parent: this },
    );
    this.queue = new aws.sqs.Queue(
      `${name}`,
      {
        sqsManagedSseEnabled: true,
        receiveWaitTimeSeconds: 20,
        visibilityTimeoutSeconds: this.visibilityTimeoutSeconds,
        messageRetentionSeconds: 4 * 86400,
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount }),
      },
      { parent: this },
    );
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-redrive-allow`,
      {
        queueUrl: this.deadLetterQueue.url,
        redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
      },
      { parent: this },
    );
    for (const [role, q] of [
      ["main", this.queue],
      ["dlq", this.deadLetterQueue],
    ] as const) {
      new aws.sqs.QueuePolicy(
        `${name}-${role}-tls-only`,
        {
          queueUrl: q.url,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sqs:*",
                Resource: q.arn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          }),
        },
        { parent: this },
      );
    }

    this.url = this.queue.url;
    this.arn = this.queue.arn;
    this.name = this.queue.name;
    this.deadLetterName = this.deadLetterQueue.name;
    this.sendStatements = [
      { sid: "SendOrders", actions: ["sqs:SendMessage", "sqs:GetQueueAttributes"], resources: [this.arn] },
    ];
    this.consumeStatements = [
      {
        sid: "ConsumeOrders",
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        resources: [this.arn],
      },
    ];
    this.registerOutputs({ url: this.url, arn: this.arn, deadLetterArn: this.deadLetterQueue.arn });
  }
}
