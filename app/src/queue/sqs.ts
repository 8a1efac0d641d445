/**
 * The SQS client of the orders queue. On AWS it takes the region from AWS_REGION (or the queue URL) and credentials
 * from the instance role through the SDK's default chain. Against an emulator (SQS_ENDPOINT), the endpoint is
 * explicit and the credentials are fixed dummies (SQS_ENDPOINT is for emulators only).
 */
import { SQSClient } from "@aws-sdk/client-sqs";

/** What the client signs with when SQS_ENDPOINT names an emulator. */
export const EMULATOR_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** The configuration the client is built from. */
export interface SqsSettings {
  ORDER_QUEUE_URL: string;
  AWS_REGION?: string;
  SQS_ENDPOINT?: string;
}

/** The region in a queue URL such as `https://sqs.us-east-1.amazonaws.com/123456789012/orders`, if it has one. */
export function regionOfQueueUrl(queueUrl: string): string | undefined {
  return /^sqs[.-]([a-z]{2}(?:-[a-z]+)+-\d+)\./.exec(new URL(queueUrl).hostname)?.[1];
}

/** A client for the orders queue. */
export function createSqsClient(settings: SqsSettings): SQSClient {
  return new SQSClient({
    region: settings.AWS_REGION ?? regionOfQueueUrl(settings.ORDER_QUEUE_URL) ?? "us-east-1",
    // An emulator checks no signature: fixed credentials, so the SDK never looks for real ones (nor asks the
    // instance metadata address for them).
    ...(settings.SQS_ENDPOINT ? { endpoint: settings.SQS_ENDPOINT, credentials: EMULATOR_CREDENTIALS } : {}),
    // Transient errors (throttling, 5xx) are retried by the SDK; ours are at-least-once anyway.
    maxAttempts: 3,
  });
}
