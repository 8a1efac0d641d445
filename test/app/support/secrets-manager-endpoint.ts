/**
 * A local HTTP endpoint that answers the Secrets Manager API's GetSecretValue the way AWS does (the JSON 1.1
 * protocol: `POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`, a JSON body), for the real SDK client.
 *
 * There is no Secrets Manager emulator on this machine (fauxqs speaks SQS only, and nothing may reach AWS), so the
 * tests run the app's real `@aws-sdk/client-secrets-manager` client against this: only the server's side is ours.
 * It listens on 127.0.0.1 and keeps every request it gets, so a test can count reads and check what was signed.
 */
import { type IncomingHttpHeaders, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the endpoint received. */
export interface SecretRequest {
  target: string;
  secretId: string;
  headers: IncomingHttpHeaders;
}

/** A running endpoint. */
export interface SecretsManagerEndpoint {
  /** `http://127.0.0.1:<port>`, for SECRETS_MANAGER_ENDPOINT. */
  url: string;
  /** Every request, in order. */
  requests: SecretRequest[];
  /** Sets the SecretString of `arn` (a new version, as PutSecretValue or a rotation does). */
  put(arn: string, secretString: string): void;
  /** From now on `arn` answers this AWS error (e.g. `AccessDeniedException`); `undefined` to answer again. */
  fail(arn: string, errorType: string | undefined): void;
  close(): Promise<void>;
}

/** An ARN in `region`, in the form Secrets Manager gives (name, then `-` and six random characters). */
export function secretArn(region: string, name: string): string {
  return `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbC123`;
}

/** Starts an endpoint on a free port of 127.0.0.1. */
export async function startSecretsManagerEndpoint(): Promise<SecretsManagerEndpoint> {
  const secrets = new Map<string, { value: string; version: number }>();
  const failures = new Map<string, string>();
  const requests: SecretRequest[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      const target = String(request.headers["x-amz-target"] ?? "");
      const secretId = String((JSON.parse(body || "{}") as { SecretId?: unknown }).SecretId ?? "");
      requests.push({ target, secretId, headers: request.headers });
      const answer = (status: number, json: unknown) => {
        response.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
        response.end(JSON.stringify(json));
      };
      if (target !== "secretsmanager.GetSecretValue")
        return answer(400, { __type: "UnknownOperationException", message: `not served here: ${target}` });
      const failure = failures.get(secretId);
      if (failure) return answer(400, { __type: failure, message: `${failure} for ${secretId} (the test's endpoint)` });
      const secret = secrets.get(secretId);
      if (!secret)
        return answer(400, {
          __type: "ResourceNotFoundException",
          message: "Secrets Manager can't find the specified secret.",
        });
      answer(200, {
        ARN: secretId,
        Name: secretId.split(":")[6],
        SecretString: secret.value,
        VersionId: `version-${secret.version}`,
        VersionStages: ["AWSCURRENT"],
        CreatedDate: Date.now() / 1000,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    put(arn, value) {
      secrets.set(arn, { value, version: (secrets.get(arn)?.version ?? 0) + 1 });
    },
    fail(arn, errorType) {
      if (errorType === undefined) failures.delete(arn);
      else failures.set(arn, errorType);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
