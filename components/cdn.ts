import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PrivateBucket, SERVER_ACCESS_LOG_PREFIX } from "./private-bucket";
import { requireOneOf } from "./validate";
import { FRAME_OPTIONS, HSTS_INCLUDE_SUBDOMAINS, HSTS_MAX_AGE_SECONDS, REFERRER_POLICY } from "./security-headers";

/** AWS-managed CloudFront policies, by their documented ids. */
export const MANAGED = {
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  allViewerExceptHostHeader: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
} as const;

/** Hosted zone id of every CloudFront distribution, for Route 53 aliases. */
export const CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2";

/** The header CloudFront adds to origin requests and the ALB checks. */
export const ORIGIN_VERIFY_HEADER = "X-Origin-Verify";

export const PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"] as const;

/** HSTS max-age the response-headers policy sends (components/security-headers.ts: the app sends the same). */
export { HSTS_MAX_AGE_SECONDS };
export type PriceClass = (typeof PRICE_CLASSES)[number];

/** One static file to publish under `/static/`. */
export interface StaticFile {
  /** Key below `static/`, e.g. `app.3f9a1c.js`. */
  key: string;
  /** Path on disk. */
  path: string;
  contentType: string;
  cacheControl: string;
}

/** Arguments for {@link Cdn}. */
export interface CdnArgs {
  /** Hostname CloudFront reaches the load balancer by: `origin.<domain>` with a domain, else the ALB's DNS name. */
  albOriginDomain: pulumi.Input<string>;
  /** Whether the origin speaks HTTPS (a certificate on the ALB covers `albOriginDomain`). */
  albOriginHttps: boolean;
  /** Static files to upload to the assets bucket. */
  staticFiles: StaticFile[];
  /** Value of the {@link ORIGIN_VERIFY_HEADER} the ALB requires (shared with `WebFleet.originVerifyHeader`). */
  originSecret: pulumi.Input<string>;
  /**
   * With a domain: the viewer certificate for it, created in us-east-1 (CloudFront only reads certificates there)
   * through `certificateProvider`, DNS-validated in the zone. `validationRecordFqdns` names the validation record of
   * `domain` when another component owns it (the web fleet, whose certificate covers the same name): ACM answers one
   * validation CNAME per domain name and account, in every region, so a second record resource would share it and
   * deleting either would delete the record both rely on.
   * @default undefined (no custom domain; without `validationRecordFqdns` the CDN creates and owns the record)
   */
  dns?: {
    domain: string;
    hostedZoneId: pulumi.Input<string>;
    validationRecordFqdns?: Record<string, pulumi.Input<string>>;
  };
  /** A provider for us-east-1, for the viewer certificate. Required with `dns`. */
  certificateProvider?: aws.Provider;
  /**
   * ARN of the `CLOUDFRONT`-scope web ACL (see `WebAcl`, created in us-east-1) that inspects every viewer request.
   * Required: the distribution never runs without one.
   */
  webAclArn: pulumi.Input<string>;
  /**
   * Physical name of the response-headers policy. CloudFront policy names are unique per account (every region),
   * so it must carry the stack.
   * @example "scale-ladder-prod-security-headers"
   */
  responseHeadersPolicyName: string;
  /**
   * Edge locations to pay for.
   * @default "PriceClass_100"
   */
  priceClass?: PriceClass;
  /**
   * Seconds CloudFront may keep a public product read when the app says nothing (the app's `Cache-Control` wins up
   * to `productMaxTtlSeconds`).
   * @default 30
   */
  productDefaultTtlSeconds?: number;
  /** @default 60 */
  productMaxTtlSeconds?: number;
  /**
   * Let `pulumi destroy` delete the assets bucket with its files.
   * @default false
   */
  forceDestroy?: boolean;
  /**
   * Bucket (made with `PrivateBucket`'s `receivesServerAccessLogs`) that receives the assets bucket's S3 server
   * access logs, under `s3/assets/` (prod).
   * @default undefined (no server access logs)
   */
  accessLogBucket?: pulumi.Input<string>;
}

/**
 * Step 6: a CloudFront distribution in front of everything.
 *
 * - `/static/*` comes from a private S3 bucket through Origin Access Control (SigV4; the bucket policy admits only
 *   this distribution, by `AWS:SourceArn`), cached with the managed CachingOptimized policy; files are uploaded with
 *   content-hashed names and `immutable` cache headers.
 * - `/api/products*` goes to the ALB with short caching (cache key: query string and `Authorization`, no cookies),
 *   so anonymous catalog reads are served from the edge for seconds at a time.
 * - Everything else (carts, checkout, orders: personalised) goes to the ALB uncached, with every viewer header,
 *   cookie and query string forwarded.
 * - Every viewer request passes the web ACL (`webAclArn`) first.
 * - Every response, from every behavior, gets the security headers of one response-headers policy: HSTS (two years,
 *   subdomains) and `X-Content-Type-Options: nosniff` *override* what the origin sends: HTTPS is the edge's to
 *   promise (without a domain the origin leg is plain HTTP, so the app cannot know), and nosniff has no other
 *   sensible value. `Referrer-Policy` (strict-origin-when-cross-origin) and `X-Frame-Options` (DENY) are added only
 *   where the origin sent none (static files from S3, CloudFront's own errors): the app chooses its own with its
 *   CSP on HTML (`frame-ancestors`, which browsers prefer to X-Frame-Options) and the edge must not contradict
 *   it. No CSP here for the same reason: a policy CSP would replace the app's, or add one to JSON that needs none.
 * - Viewers are redirected to HTTPS. With a domain, the viewer certificate (us-east-1) enforces TLS 1.2
 *   (`TLSv1.2_2021`); without one the default `*.cloudfront.net` certificate is used and CloudFront does not let
 *   the minimum protocol be set.
 * - Origin requests carry a secret header (`X-Origin-Verify`, a Pulumi secret) that the ALB requires, on top of the
 *   ALB admitting only CloudFront's origin-facing prefix list. Without a domain the origin leg is plain HTTP (no
 *   certificate matches the ALB's own name), so that header crosses the internet unencrypted: set a domain in
 *   production.
 *
 * Cost: requests and transfer (PriceClass_100: $0.085/GB and $0.0075 per 10,000 HTTPS requests in NA/EU); the
 * response-headers policy is free; the web ACL is priced with `WebAcl`.
 */
export class Cdn extends pulumi.ComponentResource {
  public readonly distribution: aws.cloudfront.Distribution;
  public readonly assets: PrivateBucket;
  public readonly responseHeadersPolicy: aws.cloudfront.ResponseHeadersPolicy;
  /** `https://<domain or *.cloudfront.net>/` */
  public readonly url: pulumi.Output<string>;
  public readonly domainName: pulumi.Output<string>;
  /** The secret the ALB must see in {@link ORIGIN_VERIFY_HEADER}, as a Pulumi secret. */
  public readonly originSecret: pulumi.Output<string>;

  constructor(name: string, args: CdnArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:cdn:Cdn", name, {}, opts);
    const priceClass = args.priceClass ?? "PriceClass_100";
    requireOneOf("Cdn", "priceClass", priceClass, PRICE_CLASSES);
    if (args.dns && !args.certificateProvider)
      throw new Error("Cdn: certificateProvider (a us-east-1 provider) is required when dns is set");

    const serverAccessLogs =
      args.accessLogBucket !== undefined
        ? { targetBucket: args.accessLogBucket, prefix: `${SERVER_ACCESS_LOG_PREFIX}assets/` }
        : undefined;
    this.assets = new PrivateBucket(
      `${name}-assets`,
      { versioned: false, externalPolicy: true, forceDestroy: args.forceDestroy, serverAccessLogs },
      { parent: this },
    );
    for (const file of args.staticFiles) {
      new aws.s3.BucketObjectv2(
        `${name}-static-${file.key}`,
        {
          bucket: this.assets.bucket.id,
          key: `static/${file.key}`,
          source: new pulumi.asset.FileAsset(file.path),
          contentType: file.contentType,
          cacheControl: file.cacheControl,
        },
        { parent: this },
      );
    }
    const oac = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        description: "scale-ladder static assets",
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      { parent: this },
    );

    this.originSecret = pulumi.secret(pulumi.output(args.originSecret));

    const productCache = new aws.cloudfront.CachePolicy(
      `${name}-products`,
      {
        comment: "scale-ladder public product reads: seconds at the edge",
        minTtl: 0,
        defaultTtl: args.productDefaultTtlSeconds ?? 30,
        maxTtl: args.productMaxTtlSeconds ?? 60,
        parametersInCacheKeyAndForwardedToOrigin: {
          cookiesConfig: { cookieBehavior: "none" },
          // Admin writes carry Authorization; CloudFront forwards it only when it is part of the key.
          headersConfig: { headerBehavior: "whitelist", headers: { items: ["Authorization"] } },
          queryStringsConfig: { queryStringBehavior: "all" },
          enableAcceptEncodingBrotli: true,
          enableAcceptEncodingGzip: true,
        },
      },
      { parent: this },
    );

    this.responseHeadersPolicy = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-security-headers`,
      {
        name: args.responseHeadersPolicyName,
        comment: "scale-ladder security headers on every response",
        securityHeadersConfig: {
          strictTransportSecurity: {
            accessControlMaxAgeSec: HSTS_MAX_AGE_SECONDS,
            includeSubdomains: HSTS_INCLUDE_SUBDOMAINS,
            preload: false,
            override: true,
          },
          contentTypeOptions: { override: true },
          referrerPolicy: { referrerPolicy: REFERRER_POLICY, override: false },
          frameOptions: { frameOption: FRAME_OPTIONS, override: false },
        },
      },
      { parent: this },
    );
    const responseHeadersPolicyId = this.responseHeadersPolicy.id;

    const certificateArn = args.dns ? this.viewerCertificate(name, args.dns, args.certificateProvider!) : undefined;
    const allMethods = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];
    this.distribution = new aws.cloudfront.Distribution(
      `${name}`,
      {
        enabled: true,
        comment: "scale-ladder",
        webAclId: args.webAclArn,
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass,
        aliases: args.dns ? [args.dns.domain] : [],
        origins: [
          {
            originId: "alb",
            domainName: args.albOriginDomain,
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: args.albOriginHttps ? "https-only" : "http-only",
              originSslProtocols: ["TLSv1.2"],
              originReadTimeout: 30,
              originKeepaliveTimeout: 5,
            },
            customHeaders: [{ name: ORIGIN_VERIFY_HEADER, value: this.originSecret }],
          },
          {
            originId: "assets",
            domainName: this.assets.bucket.bucketRegionalDomainName,
            originAccessControlId: oac.id,
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: "alb",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: allMethods,
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: MANAGED.cachingDisabled,
          originRequestPolicyId: MANAGED.allViewerExceptHostHeader,
          responseHeadersPolicyId,
          compress: true,
        },
        orderedCacheBehaviors: [
          {
            pathPattern: "/static/*",
            targetOriginId: "assets",
            viewerProtocolPolicy: "redirect-to-https",
            allowedMethods: ["GET", "HEAD"],
            cachedMethods: ["GET", "HEAD"],
            cachePolicyId: MANAGED.cachingOptimized,
            responseHeadersPolicyId,
            compress: true,
          },
          {
            pathPattern: "/api/products*",
            targetOriginId: "alb",
            viewerProtocolPolicy: "redirect-to-https",
            allowedMethods: allMethods,
            cachedMethods: ["GET", "HEAD"],
            cachePolicyId: productCache.id,
            responseHeadersPolicyId,
            compress: true,
          },
        ],
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: certificateArn
          ? { acmCertificateArn: certificateArn, sslSupportMethod: "sni-only", minimumProtocolVersion: "TLSv1.2_2021" }
          : { cloudfrontDefaultCertificate: true },
      },
      { parent: this },
    );

    // Only this distribution may read the assets, and only over TLS.
    this.assets.attachPolicy(`${name}-assets-policy`, [
      this.distribution.arn.apply((arn) => ({
        Sid: "CloudFrontReadsThroughOac",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: "{bucketArn}/static/*",
        Condition: { StringEquals: { "AWS:SourceArn": arn } },
      })),
    ]);

    this.domainName = this.distribution.domainName;
    this.url = args.dns
      ? pulumi.output(`https://${args.dns.domain}/`)
      : pulumi.interpolate`https://${this.domainName}/`;
    this.registerOutputs({ url: this.url, domainName: this.domainName, distributionId: this.distribution.id });
  }

  /** The viewer certificate, in us-east-1 through `provider`, DNS-validated; resolves once issued. */
  private viewerCertificate(
    name: string,
    dns: NonNullable<CdnArgs["dns"]>,
    provider: aws.Provider,
  ): pulumi.Output<string> {
    const cert = new aws.acm.Certificate(
      `${name}-cert`,
      { domainName: dns.domain, validationMethod: "DNS" },
      { parent: this, provider },
    );
    let fqdn = dns.validationRecordFqdns?.[dns.domain];
    if (dns.validationRecordFqdns && fqdn === undefined) {
      throw new Error(
        `Cdn: dns.validationRecordFqdns has no record for ${dns.domain}; it has ` +
          `${Object.keys(dns.validationRecordFqdns).join(", ") || "none"}`,
      );
    }
    if (fqdn === undefined) {
      const option = cert.domainValidationOptions.apply((o) => o[0]);
      fqdn = new aws.route53.Record(
        `${name}-cert-validation`,
        {
          zoneId: dns.hostedZoneId,
          name: option.resourceRecordName,
          type: option.resourceRecordType,
          records: [option.resourceRecordValue],
          ttl: 300,
          allowOverwrite: true,
        },
        { parent: this, provider },
      ).fqdn;
    }
    return new aws.acm.CertificateValidation(
      `${name}-cert-validated`,
      { certificateArn: cert.arn, validationRecordFqdns: [fqdn] },
      { parent: this, provider },
    ).certificateArn;
  }
}
