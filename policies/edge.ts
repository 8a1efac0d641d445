/**
 * The edge: CloudFront and the load balancer speak modern TLS to viewers, send them to HTTPS, read S3 only through
 * Origin Access Control, and drop malformed headers.
 */
import * as aws from "@pulumi/aws";
import {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import { LISTENER_TYPES, LOAD_BALANCER_TYPES, isSet, isTrue, known, label, referrersOf } from "./relations";

const HTTPS_VIEWER_POLICIES = ["redirect-to-https", "https-only"];

export const cloudfrontHttpsOnly: ResourceValidationPolicy = {
  name: "cloudfront-https-only",
  description: "Every CloudFront cache behavior redirects viewers to HTTPS (or accepts HTTPS only).",
  severity: "high",
  remediationSteps: 'Set viewerProtocolPolicy: "redirect-to-https" on the default and every ordered cache behavior.',
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
    // Not a spread of the default behavior: that would read every field, and its responseHeadersPolicyId (another
    // resource's id) is unknown at a first preview, which would defer the whole policy.
    const first = { pathPattern: "default", viewerProtocolPolicy: d.defaultCacheBehavior.viewerProtocolPolicy };
    const behaviors = [first, ...(d.orderedCacheBehaviors ?? [])];
    for (const b of behaviors) {
      if (!HTTPS_VIEWER_POLICIES.includes(b.viewerProtocolPolicy))
        report(`${args.name}: cache behavior ${b.pathPattern} has viewerProtocolPolicy "${b.viewerProtocolPolicy}".`);
    }
  }),
};

/** CloudFront security policies of TLS 1.2 and later. */
const CLOUDFRONT_TLS12 = /^TLSv1\.[23]_\d{4}$/;
const WEAK_ORIGIN_PROTOCOLS = ["SSLv3", "TLSv1", "TLSv1.1"];

export const cloudfrontTls: ResourceValidationPolicy = {
  name: "cloudfront-tls",
  description:
    "With a custom certificate CloudFront accepts TLS 1.2+ only (SNI); HTTPS origins are reached with TLS 1.2+.",
  severity: "high",
  remediationSteps:
    'Set viewerCertificate { sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" } and ' +
    'customOriginConfig.originSslProtocols: ["TLSv1.2"].',
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
    const v = d.viewerCertificate;
    const custom = isSet(() => v.acmCertificateArn) || isSet(() => v.iamCertificateId);
    if (custom) {
      if (!CLOUDFRONT_TLS12.test(v.minimumProtocolVersion ?? ""))
        report(
          `${args.name}: viewerCertificate.minimumProtocolVersion is ` +
            `${JSON.stringify(v.minimumProtocolVersion ?? "unset (TLSv1)")}, not TLSv1.2_2021 or later.`,
        );
      if (v.sslSupportMethod !== "sni-only")
        report(
          `${args.name}: viewerCertificate.sslSupportMethod is ` +
            `${JSON.stringify(v.sslSupportMethod ?? "unset")}, not "sni-only".`,
        );
    }
    for (const o of d.origins) {
      const c = o.customOriginConfig;
      if (!c || c.originProtocolPolicy === "http-only") continue;
      const weak = (c.originSslProtocols ?? []).filter((p) => WEAK_ORIGIN_PROTOCOLS.includes(p));
      if (weak.length > 0) report(`${args.name}: origin ${o.originId} allows ${weak.join(", ")}.`);
    }
  }),
};

/** An S3 REST or website endpoint. */
const S3_DOMAIN = /\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$|\.s3-website[.-]/;

export const cloudfrontS3OriginOac: ResourceValidationPolicy = {
  name: "cloudfront-s3-origin-oac",
  description:
    "CloudFront reads S3 origins through Origin Access Control, never through a public or website endpoint or a " +
    "legacy OAI.",
  severity: "high",
  remediationSteps:
    "Give the S3 origin originAccessControlId (an OriginAccessControl with signingBehavior always, sigv4), no " +
    "customOriginConfig and no originAccessIdentity; grant the distribution s3:GetObject in the bucket policy by " +
    "AWS:SourceArn.",
  validateResource: validateResourceOfType(aws.cloudfront.Distribution, (d, args, report) => {
    for (const o of d.origins) {
      if (o.customOriginConfig) {
        const domain = known(() => o.domainName as string, "");
        if (S3_DOMAIN.test(domain))
          report(
            `${args.name}: origin ${o.originId} reaches S3 (${domain}) as a custom origin, which bypasses ` +
              `Origin Access Control.`,
          );
        continue;
      }
      // Without customOriginConfig the origin is an S3 bucket (or another OAC-capable AWS origin).
      if (!isSet(() => o.originAccessControlId))
        report(`${args.name}: S3 origin ${o.originId} has no originAccessControlId.`);
      if (o.s3OriginConfig && isSet(() => o.s3OriginConfig!.originAccessIdentity))
        report(
          `${args.name}: S3 origin ${o.originId} uses a legacy origin access identity; use Origin Access Control.`,
        );
    }
  }),
};

export const albDropInvalidHeaders: ResourceValidationPolicy = {
  name: "alb-drop-invalid-headers",
  description: "Application load balancers drop HTTP headers that are not valid (request smuggling defence).",
  severity: "medium",
  remediationSteps: "Set dropInvalidHeaderFields: true on the load balancer.",
  validateResource: [aws.lb.LoadBalancer, aws.alb.LoadBalancer].map((cls) =>
    validateResourceOfType(cls, (lb, args, report) => {
      if ((lb.loadBalancerType ?? "application") !== "application") return;
      if (!isTrue(lb.dropInvalidHeaderFields))
        report(`${args.name}: dropInvalidHeaderFields is ${lb.dropInvalidHeaderFields ?? "unset (false)"}.`);
    }),
  ),
};

const redirectsToHttps = (listener: PolicyResource): boolean =>
  known(() => {
    const actions = (listener.props.defaultActions ?? []) as Array<{ type?: string; redirect?: { protocol?: string } }>;
    return actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
  }, true);

export const albHttpRedirectsToHttps: StackValidationPolicy = {
  name: "alb-http-redirects-to-https",
  description: "A load balancer that serves HTTPS answers plain HTTP only with a redirect to HTTPS.",
  severity: "medium",
  remediationSteps:
    'Make the HTTP listener\'s default action { type: "redirect", redirect: { protocol: "HTTPS", port: "443", ' +
    'statusCode: "HTTP_301" } } and add no listener rules that forward HTTP.',
  validateStack: (args, report) => {
    for (const lb of args.resources.filter((r) => LOAD_BALANCER_TYPES.includes(r.type))) {
      const listeners = referrersOf(args.resources, lb, LISTENER_TYPES, "loadBalancerArn", ["arn", "id"]);
      const protocol = (l: PolicyResource) => known(() => String(l.props.protocol ?? "HTTP").toUpperCase(), "HTTPS");
      if (!listeners.some((l) => protocol(l) === "HTTPS")) continue;
      for (const l of listeners.filter((x) => protocol(x) === "HTTP")) {
        if (!redirectsToHttps(l))
          report(
            `${label(l)} on ${lb.name} serves plain HTTP although the load balancer has an HTTPS listener; ` +
              `redirect it to HTTPS.`,
            l.urn,
          );
      }
    }
  },
};

/** ELB security policies that accept TLS 1.2 and later only. */
const ALB_TLS12 = /^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)(-|$)/;

export const albTls12: ResourceValidationPolicy = {
  name: "alb-tls12",
  description: "HTTPS listeners use an ELB security policy of TLS 1.2 or later.",
  severity: "high",
  remediationSteps:
    'Set sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" (the default, ELBSecurityPolicy-2016-08, still ' +
    "accepts TLS 1.0).",
  validateResource: [aws.lb.Listener, aws.alb.Listener].map((cls) =>
    validateResourceOfType(cls, (l, args, report) => {
      const protocol = String(l.protocol ?? "").toUpperCase();
      if (protocol !== "HTTPS" && protocol !== "TLS") return;
      if (!ALB_TLS12.test(l.sslPolicy ?? ""))
        report(
          `${args.name}: sslPolicy is ${JSON.stringify(l.sslPolicy ?? "unset (ELBSecurityPolicy-2016-08)")}, ` +
            `which accepts TLS older than 1.2.`,
        );
    }),
  ),
};

export const EDGE_POLICIES = [
  cloudfrontHttpsOnly,
  cloudfrontTls,
  cloudfrontS3OriginOac,
  albDropInvalidHeaders,
  albHttpRedirectsToHttps,
  albTls12,
];
