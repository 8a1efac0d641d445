import { GraphRequest, ladderGraphs } from "../../lib/graph/graph-cache";
import { Graph, runLadder, stackConfig } from "../../lib/graph/harness";
import { T, ingressRules, isSecret, plaintextSecretLeaks, reveal, sgIdOf, statementsOf } from "../../lib/graph/queries";

const DNS = { "scale-ladder:domain": "shop.example.com", "scale-ladder:hostedZoneId": "Z0123456789ABCDEFGHIJ" };
const DIST = T.dist;
/** The distribution's origins: a secret as a whole, since one of them carries the origin header. */
const originsOf = (g: Graph) => {
  const origins = g.one(DIST).inputs.origins;
  expect(isSecret(origins)).toBe(true);
  return reveal(origins) as Array<{ originId: string; [k: string]: any }>;
};
const userDataOf = (g: Graph, lt: string) => Buffer.from(g.one(T.lt, lt).inputs.userData, "base64").toString("utf8");

describe("steps 6–8", () => {
  const g: Record<string, Graph> = {};
  beforeAll(async () => {
    // From the graph cache, under the stack names the other files use, so that the graphs are shared.
    const stacks: Record<string, GraphRequest> = {
      ...Object.fromEntries([5, 6, 7, 8].map((step) => [step, { config: stackConfig(step), stack: "dev" }])),
      dns6: { config: stackConfig(6, DNS), stack: "dev" },
      euDns6: { config: stackConfig(6, { ...DNS, "aws:region": "eu-west-1" }), stack: "dev" },
    };
    const graphs = await ladderGraphs(Object.values(stacks));
    Object.keys(stacks).forEach((k, i) => (g[k] = graphs[i]));
  }, 300_000);

  describe("step 6: CDN", () => {
    it("serves /static/* from a private bucket through Origin Access Control", () => {
      const dist = g[6].one(DIST).inputs;
      const assets = originsOf(g[6]).find((o) => o.originId === "assets")!;
      expect(assets.originAccessControlId).toBeTruthy();
      expect(assets.customOriginConfig).toBeUndefined();
      expect(g[6].one(T.oac).inputs).toMatchObject({
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      });
      const statics = dist.orderedCacheBehaviors.find((b: { pathPattern: string }) => b.pathPattern === "/static/*");
      expect(statics).toMatchObject({
        targetOriginId: "assets",
        cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
        viewerProtocolPolicy: "redirect-to-https",
      });
    });

    it("lets only this distribution read the bucket, which blocks all public access", () => {
      const policy = JSON.parse(g[6].one(T.bucketPolicy, "use1-cdn-assets-policy").inputs.policy);
      const read = policy.Statement.find((s: { Sid: string }) => s.Sid === "CloudFrontReadsThroughOac");
      expect(read).toMatchObject({
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Condition: {
          StringEquals: { "AWS:SourceArn": expect.stringMatching(/^arn:aws:cloudfront::123456789012:distribution\/E/) },
        },
      });
      expect(policy.Statement.find((s: { Sid: string }) => s.Sid === "DenyInsecureTransport")).toBeTruthy();
      expect(g[6].one(T.bpa, "use1-cdn-assets-public-access").inputs).toMatchObject({
        blockPublicPolicy: true,
        restrictPublicBuckets: true,
      });
      for (const b of g[6].ofType(T.bpa)) expect(b.inputs.blockPublicAcls && b.inputs.ignorePublicAcls).toBe(true);
    });

    it("uploads hashed static files as immutable and the rest briefly cached", () => {
      const objects = g[6].ofType(T.bucketObject).filter((o) => o.inputs.key.startsWith("static/"));
      const byKey = Object.fromEntries(objects.map((o) => [o.inputs.key, o.inputs]));
      expect(byKey["static/app.3f9a1c0d.js"]).toMatchObject({
        cacheControl: "public, max-age=31536000, immutable",
        contentType: "text/javascript; charset=utf-8",
      });
      expect(byKey["static/index.html"]).toMatchObject({
        cacheControl: "public, max-age=60",
        contentType: "text/html; charset=utf-8",
      });
    });

    it("caches public product reads briefly and nothing personalised", () => {
      const dist = g[6].one(DIST).inputs;
      expect(dist.defaultCacheBehavior).toMatchObject({
        targetOriginId: "alb",
        cachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        viewerProtocolPolicy: "redirect-to-https",
      });
      const products = dist.orderedCacheBehaviors.find(
        (b: { pathPattern: string }) => b.pathPattern === "/api/products*",
      );
      const policy = g[6].one(T.cachePolicy).inputs;
      expect(products.cachePolicyId).toMatch(/^[0-9a-f-]{36}$/);
      expect(policy).toMatchObject({ minTtl: 0, defaultTtl: 30, maxTtl: 60 });
      expect(policy.parametersInCacheKeyAndForwardedToOrigin.cookiesConfig.cookieBehavior).toBe("none");
    });

    it("redirects to HTTPS; with a domain, TLS 1.2 with a certificate from us-east-1", () => {
      for (const b of [g[6].one(DIST).inputs.defaultCacheBehavior, ...g[6].one(DIST).inputs.orderedCacheBehaviors])
        expect(b.viewerProtocolPolicy).toBe("redirect-to-https");
      expect(g[6].one(DIST).inputs.viewerCertificate).toEqual({ cloudfrontDefaultCertificate: true });
      const viewer = g.euDns6.one(DIST).inputs.viewerCertificate;
      expect(viewer).toMatchObject({ sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" });
      expect(viewer.acmCertificateArn).toMatch(/^arn:aws:acm:us-east-1:/);
      const certProvider = g.euDns6.one(T.awsProvider, "aws-us-east-1-certificates");
      expect(certProvider.inputs.region).toBe("us-east-1");
      expect(g.euDns6.one(T.acmCert, "euw1-cdn-cert").provider).toContain("::aws-us-east-1-certificates::");
      expect(g.euDns6.one(T.acmCert, "euw1-web-cert").provider).toContain("::aws-eu-west-1::");
      expect(g.euDns6.one(DIST).inputs).toMatchObject({ aliases: ["shop.example.com"], priceClass: "PriceClass_100" });
    });

    it("closes the ALB to the world: CloudFront's prefix list on one port, and a secret header", () => {
      for (const graph of [g[6], g[7], g[8], g.dns6]) {
        expect(ingressRules(graph).filter((r) => r.cidr !== undefined)).toEqual([]);
        const alb = sgIdOf(graph.one(T.sg, "use1-network-alb-sg"));
        const intoAlb = graph.ofType(T.ingress).filter((r) => r.inputs.securityGroupId === alb);
        expect(intoAlb.map((r) => ({ port: r.inputs.fromPort, prefixListId: r.inputs.prefixListId }))).toEqual([
          { port: graph === g.dns6 ? 443 : 80, prefixListId: "pl-3b927c52" },
        ]);
      }
      const listener = g[6].one(T.listener);
      expect(listener.inputs.defaultActions).toEqual([
        expect.objectContaining({
          type: "fixed-response",
          fixedResponse: expect.objectContaining({ statusCode: "403" }),
        }),
      ]);
      const rule = g[6].one(T.listenerRule).inputs;
      const header = originsOf(g[6]).find((o) => o.originId === "alb")!.customHeaders[0];
      expect(header.name).toBe("X-Origin-Verify");
      expect(reveal(rule.conditions)[0].httpHeader).toEqual({
        httpHeaderName: "X-Origin-Verify",
        values: [header.value],
      });
      expect(header.value).toMatch(/^MockSecret/);
      expect(rule.actions[0].type).toBe("forward");
    });

    it("reaches the ALB over HTTPS by origin.<domain> when there is a domain; points the site at CloudFront", () => {
      const alb = originsOf(g.dns6).find((o) => o.originId === "alb")!;
      expect(alb.domainName).toBe("origin.shop.example.com");
      expect(alb.customOriginConfig).toMatchObject({
        originProtocolPolicy: "https-only",
        originSslProtocols: ["TLSv1.2"],
      });
      expect(g.dns6.one(T.acmCert, "use1-web-cert").inputs.subjectAlternativeNames).toEqual([
        "origin.shop.example.com",
      ]);
      expect(g.dns6.one(T.record, "use1-site-dns").inputs.aliases).toEqual([
        expect.objectContaining({ zoneId: "Z2FDTNDATAQYW2" }),
      ]);
      expect(g.dns6.outputs.siteUrl).toBe("https://shop.example.com/");
      expect(g[6].outputs.siteUrl).toMatch(/^https:\/\/d[0-9a-f]+\.cloudfront\.net\/$/);
    });
  });

  describe("steps 6-8: the app behind CloudFront and the ALB", () => {
    it("believes two proxies' X-Forwarded-For entries: CloudFront's, then the ALB's, and none the client wrote", () => {
      for (const s of [6, 7, 8]) expect(userDataOf(g[s], "use1-web-lt")).toContain('echo "TRUST_PROXY=2"');
    });

    it("names the site's public origin for the cross-site check only when there is a domain to name", () => {
      // The app sees the origin's name as Host behind CloudFront; CloudFront's own name is not known in advance.
      expect(userDataOf(g[6], "use1-web-lt")).toContain('echo "SITE_ORIGINS="');
      expect(userDataOf(g.dns6, "use1-web-lt")).toContain('echo "SITE_ORIGINS=https://shop.example.com"');
    });
  });

  describe("step 7: stateless web tier", () => {
    it("turns stickiness off and moves sessions to Redis", () => {
      expect(g[6].one(T.tg).inputs.stickiness.enabled).toBe(true);
      for (const s of [7, 8]) expect(g[s].one(T.tg).inputs.stickiness.enabled).toBe(false);
      expect(userDataOf(g[7], "use1-web-lt")).toContain('echo "SESSION_STORE=redis"');
      expect(userDataOf(g[6], "use1-web-lt")).toContain('echo "SESSION_STORE=memory"');
    });

    it("scales on requests per target, keeping at least two servers", async () => {
      const policies = g[7]
        .ofType(T.asgPolicy)
        .map((p) => p.inputs.targetTrackingConfiguration.predefinedMetricSpecification);
      expect(policies).toContainEqual(
        expect.objectContaining({
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: expect.stringMatching(/^app\/use1-web-alb\/[0-9a-f]+\/targetgroup\/use1-web-tg\/[0-9a-f]+$/),
        }),
      );
      expect(g[7].one(T.asg).inputs.minSize).toBeGreaterThanOrEqual(2);
      // Fresh, past the graph cache: the program is expected to throw, so there is no graph to cache.
      await expect(runLadder(stackConfig(7, { "scale-ladder:webMinSize": "1" }))).rejects.toThrow(
        "scale-ladder:webMinSize must be at least 2 from step 7",
      );
    });
  });

  describe("step 8: message queue + workers", () => {
    it("encrypts the queue, long-polls, dead-letters after 5 receives into a 14-day DLQ only it may redrive", () => {
      const queue = g[8].one(T.queue, "use1-orders").inputs;
      const dlq = g[8].one(T.queue, "use1-orders-dlq");
      expect(queue).toMatchObject({
        sqsManagedSseEnabled: true,
        receiveWaitTimeSeconds: 20,
        visibilityTimeoutSeconds: 60,
      });
      expect(JSON.parse(queue.redrivePolicy)).toEqual({
        deadLetterTargetArn: expect.stringMatching(/^arn:aws:sqs:us-east-1:123456789012:use1-orders-dlq-[0-9a-f]{7}$/),
        maxReceiveCount: 5,
      });
      expect(dlq.inputs).toMatchObject({ sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 86400 });
      const allow = JSON.parse(g[8].one(T.redriveAllowPolicy).inputs.redriveAllowPolicy);
      expect(allow).toEqual({
        redrivePermission: "byQueue",
        sourceQueueArns: [expect.stringMatching(/^arn:aws:sqs:us-east-1:123456789012:use1-orders-[0-9a-f]{7}$/)],
      });
      expect(g[7].ofType(T.queue)).toHaveLength(0);
    });

    it("lets the web tier only send and the workers only receive, delete and change visibility", () => {
      const web = statementsOf(g[8], "use1-web-policy");
      const workers = statementsOf(g[8], "use1-workers-policy");
      const sqsActions = (st: typeof web) =>
        st
          .flatMap((s) => s.Action)
          .filter((a) => a.startsWith("sqs:"))
          .sort();
      expect(sqsActions(web)).toEqual(["sqs:GetQueueAttributes", "sqs:SendMessage"]);
      expect(sqsActions(workers)).toEqual([
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ]);
      for (const graph of [g[8]]) {
        for (const p of graph.ofType(T.rolePolicy)) {
          for (const s of JSON.parse(p.inputs.policy).Statement) {
            for (const a of s.Action) expect(a).not.toMatch(/\*/);
            // Only the SSM agent's policy names `*`: its actions have no resource-level permissions (iam.ts); so do
            // the FIS drills' describe and list calls, the network ACL that FIS creates for an AZ outage, and the
            // grant EC2 makes for encrypted volumes (components/fault-drills.ts).
            const unscoped =
              p.name.endsWith("-ssm-agent") ||
              (p.name.includes("-drills-") &&
                ["Describe", "Commands", "CutSubnets", "StartEncryptedVolumes"].includes(s.Sid));
            if (!unscoped) for (const r of s.Resource) expect(r).not.toBe("*");
          }
        }
      }
    });

    it("runs workers from the same artifact in worker mode, scaling on backlog per instance", () => {
      const ud = userDataOf(g[8], "use1-workers-lt");
      expect(ud).toContain("ExecStart=/usr/bin/env node /opt/shop/current/worker.js");
      // Workers serve no HTTP API and sign no cookies: no admin token, no session key, no permission to read them.
      expect(ud).not.toContain("ADMIN_TOKEN");
      expect(ud).not.toContain("SESSION_SECRET");
      expect(statementsOf(g[8], "use1-workers-policy").map((s) => s.Sid)).not.toContain("ReadAppSecrets");
      expect(ud).toContain(`echo "ORDER_QUEUE_URL=${g[8].outputs.orderQueueUrl}"`);
      expect(userDataOf(g[8], "use1-web-lt")).toContain(`echo "ORDER_QUEUE_URL=${g[8].outputs.orderQueueUrl}"`);
      const backlog = g[8].one(T.asgPolicy, "use1-workers-backlog").inputs.targetTrackingConfiguration;
      expect(backlog.targetValue).toBe(100);
      const ids = backlog.customizedMetricSpecification.metrics.map(
        (m: { id: string; expression?: string; metricStat?: { metric: { metricName: string } } }) =>
          m.expression ?? m.metricStat!.metric.metricName,
      );
      expect(ids).toEqual([
        "ApproximateNumberOfMessagesVisible",
        "GroupInServiceInstances",
        "visible / IF(workers > 1, workers, 1)",
      ]);
      const asg = g[8].one(T.asg, "use1-workers-asg").inputs;
      expect(asg.targetGroupArns).toBeUndefined();
      for (const s of asg.vpcZoneIdentifiers) expect(s).toMatch(/^subnet-prv/);
    });

    it("admits the worker tier to the database and the cache, and nothing into the workers", () => {
      const worker = sgIdOf(g[8].one(T.sg, "use1-network-worker-sg"));
      const rules = ingressRules(g[8]);
      expect(
        rules
          .filter((r) => r.sourceSg === worker)
          .map((r) => r.from)
          .sort(),
      ).toEqual([5432, 6379]);
      expect(rules.filter((r) => r.groupId === worker)).toEqual([]);
      expect(plaintextSecretLeaks(g[8], [T.secretVersion, T.rds, T.cache, DIST, T.listenerRule])).toEqual([]);
    });
  });

  describe("climbing 5 → 6 → 7 → 8", () => {
    it("keeps every stateful resource of the step below", () => {
      const statefulTypes = [
        "rds",
        "s3/bucket:",
        "elasticache/replicationGroup",
        "secretsmanager/secret:",
        "sqs/queue",
        "ssm/parameter",
        "route53",
      ];
      const stateful = new RegExp(`^aws:(${statefulTypes.join("|")})`);
      for (const [from, to] of [
        [5, 6],
        [6, 7],
        [7, 8],
      ]) {
        const urns = new Set(g[to].resources.map((r) => r.urn));
        expect({
          from,
          to,
          lost: g[from].resources.filter((r) => stateful.test(r.type) && !urns.has(r.urn)).map((r) => r.name),
        }).toEqual({ from, to, lost: [] });
      }
    });
  });
});
