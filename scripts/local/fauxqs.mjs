// The SQS emulator of the local topology (fauxqs), listening on 127.0.0.1 only (its own CLI and startFauxqs
// listen on every interface), with each region's queues created up front through the SQS API: `orders` with a
// redrive policy to `orders-dlq` after 5 receives, as components/queue.ts makes them on AWS.
// Usage: node fauxqs.mjs <port> <visibilitySeconds> '<json [{ region, name, deadLetter }]>'
// Prints one JSON line `{"msg":"fauxqs ready","queueUrls":{name: url}}` once the queues exist.
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { buildApp } from "fauxqs";

const [port, visibility, queuesJson] = process.argv.slice(2);
const app = buildApp({ logger: false });
await app.listen({ host: "127.0.0.1", port: Number(port) });
const endpoint = `http://127.0.0.1:${port}`;
const queueUrls = {};
for (const q of JSON.parse(queuesJson)) {
  const sqs = new SQSClient({
    region: q.region,
    endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: q.deadLetter, Attributes: { MessageRetentionPeriod: "1209600" } }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const main = await sqs.send(
    new CreateQueueCommand({
      QueueName: q.name,
      Attributes: {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes.QueueArn, maxReceiveCount: 5 }),
      },
    }),
  );
  queueUrls[q.name] = main.QueueUrl;
  queueUrls[q.deadLetter] = dlq.QueueUrl;
  sqs.destroy();
}
process.stdout.write(`${JSON.stringify({ msg: "fauxqs ready", port: Number(port), queueUrls })}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
