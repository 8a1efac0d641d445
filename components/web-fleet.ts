import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { elbLogDeliveryPrincipal } from "./facts/elb-log-delivery";
import { InstanceRole, Statement } from "./iam";
import { INSTANCE_TYPE_RE } from "./instance-types";
import { appAutoScalingGroup, appLaunchTemplate } from "./launch-template";
import { ALB_IDLE_TIMEOUT_SECONDS } from "./load-balancer-timeouts";
import { PrivateBucket } from "./private-bucket";
import { requireMatch, requireRange } from "./validate";

/** TLS policy of the HTTPS listener: TLS 1.3 and 1.2 only, forward-secret ciphers. */
export const ALB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** Domain name → FQDN of the Route 53 record that validates it for ACM (one record per name, whoever owns it). */
export type ValidationRecordFqdns = Record<string, pulumi.Input<string>>;

/** The site's DNS, for {@link WebFleetArgs.dns}. */
export interface WebFleetDns {
  domain: string;
  hostedZoneId: pulumi.Input<string>;
  /**
   * Validation records another fleet already owns (step 11's secondary regions reuse the primary's). ACM answers one
   * validation CNAME per domain name and account, in every region and for every certificate, so a second record
   * resource for the same name would share it: deleting either one deletes the record both rely on.
   *
   * Stacks deployed before this rule hold a second resource on the record (`<code>-cdn-cert-validation`, and at step
   * 11 each secondary's `<code>-web-cert-validation-0/1`). Before the next `pulumi up`, drop it from the state without
   * touching DNS: `pulumi state delete <its URN>`. Otherwise that up deletes the record, and only a later
   * `pulumi up --refresh` lets the remaining owner put it back (ACM renewals need it).
   * @default undefined (this fleet creates and owns the records)
   */
  validationRecordFqdns?: ValidationRecordFqdns;
}

/** Arguments for {@link WebFleet}. */
export interface WebFleetArgs {
  /**
   * The region's name, as configured on the provider passed in `opts`: it decides who may write the access logs.
   * @example "us-east-1"
   */
  region: string;
  vpcId: pulumi.Input<string>;
  /** Subnets of the load balancer (public, at least two AZs). */
  publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Subnets of the instances (private: no public IP, egress through NAT). */
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The load balancer's security group: this component opens 80 (and 443 with a domain) to the world on it. */
  albSecurityGroupId: pulumi.Input<string>;
  /** The instances' security group: this component lets the load balancer, and only it, reach the app port. */
  webSecurityGroupId: pulumi.Input<string>;
  /** Boot script (see `appUserData`); a change makes a new launch template version and rolls the fleet. */
  userData: pulumi.Input<string>;
  /**
   * Tags for launched instances and volumes — pass the provider's default tags, which do not reach them.
   * @default {}
   */
  launchTags?: Record<string, string>;
  /** What instances may do beyond Session Manager. */
  statements: Statement[];
  /**
   * EC2 instance type; Graviton picks the arm64 AMI.
   * @default "t4g.small"
   */
  instanceType?: string;
  /**
   * Fewest instances.
   * @default 2
   */
  minSize?: number;
  /**
   * Most instances.
   * @default 6
   */
  maxSize?: number;
  /**
   * Instances a new fleet starts with; afterwards the scaling policies own the running capacity.
   * @default minSize
   */
  desiredCapacity?: number;
  /**
   * Port the app listens on inside the VPC.
   * @default 3000
   */
  appPort?: number;
  /**
   * Load-balancer cookie stickiness. Needed while sessions live in each server's memory (steps 3–6): the naive fix
   * that step 7 removes by moving sessions to Redis.
   * @default true
   */
  sticky?: boolean;
  /**
   * Target average CPU for the target-tracking policy, percent.
   * @default 50
   */
  cpuTargetPercent?: number;
  /**
   * When set, a second target-tracking policy on ALB requests per target per minute (step 7's stateless tier).
   * @default undefined
   */
  requestsPerTarget?: number;
  /**
   * With a domain: an ACM certificate for it and for `origin.<domain>` (the name a CDN reaches the ALB by),
   * DNS-validated in the zone; HTTPS on 443, and HTTP redirected to it.
   * @default undefined (plain HTTP on the load balancer's own name)
   */
  dns?: WebFleetDns;
  /**
   * Step 6: admit viewers only from this managed prefix list (CloudFront's origin-facing addresses) instead of the
   * internet, on the one port the CDN uses (443 with a domain, else 80). The list weighs ~55 rules against the
   * security group quota, hence one port.
   * @default undefined (internet-facing)
   */
  viewerPrefixListId?: pulumi.Input<string>;
  /**
   * Step 6: forward only requests that carry this header (set by the CDN on its origin requests); answer 403 to the
   * rest. The prefix list admits every CloudFront distribution, including other accounts'; the header proves it is
   * ours.
   * @default undefined
   */
  originVerifyHeader?: { name: string; value: pulumi.Input<string> };
  /**
   * A `REGIONAL` web ACL (see `WebAcl`) to associate with the load balancer. Required: every step's ALB has one.
   * From step 6 the ALB admits CloudFront's origin-facing addresses only, but those serve every CloudFront customer:
   * anyone who learns the origin header (it crosses the internet in the clear without a domain) can reach the ALB
   * through a distribution of their own, around the edge ACL. So the ALB keeps its ACL behind the CDN too.
   */
  webAclArn: pulumi.Input<string>;
  /**
   * Refuse deletion of the load balancer (prod).
   * @default false
   */
  deletionProtection?: boolean;
  /**
   * Days of ALB access logs kept.
   * @default 90
   */
  accessLogDays?: number;
}

/**
 * Step 3: an Application Load Balancer in the public subnets in front of an auto-scaled fleet in the private
 * subnets.
 *
 * - Load balancer: a WAF web ACL associated (`webAclArn`), drops invalid header fields, access logs to a private
 *   encrypted bucket (written by the region's ELB account, or by the log-delivery service in regions opened since
 *   August 2022), deletion protection in prod. With a domain, HTTPS (ACM certificate, TLS 1.2+) and HTTP → HTTPS
 *   redirect; without one, plain HTTP forward (there is no certificate to serve).
 * - Target group: health check on `/readyz` every 10 s, healthy after 2 passes, unhealthy after 3 failures (a dead
 *   server leaves rotation within ~30 s while one slow answer does not evict it); deregistration delay 30 s, enough
 *   for the app to drain in-flight requests on SIGTERM without stretching every rollout by the 300 s default.
 * - Instances: Amazon Linux 2023 resolved from the public SSM parameter at each launch (`resolve:ssm:`), so new
 *   instances get patched AMIs without a launch template change; IMDSv2 with hop limit 1; encrypted gp3; no public
 *   IP; a role with Session Manager plus the given statements.
 * - Group: ELB health checks, instance refresh on every launch template change (launch before terminate: healthy
 *   capacity never drops below 100%, so a new build rolls out with no downtime, and a build that never turns healthy
 *   fails the refresh with the old instances still serving; AWS offers no rollback with `resolve:ssm:`), CPU target
 *   tracking. Instances launch only once the role's policies exist.
 *
 * Cost: the ALB is about $16/month plus LCUs; two t4g.small instances about $25/month in us-east-1.
 */
export class WebFleet extends pulumi.ComponentResource {
  public readonly loadBalancer: aws.lb.LoadBalancer;
  public readonly targetGroup: aws.lb.TargetGroup;
  public readonly launchTemplate: aws.ec2.LaunchTemplate;
  public readonly group: aws.autoscaling.Group;
  public readonly role: InstanceRole;
  public readonly accessLogs: PrivateBucket;
  /** `https://<domain>/` with a domain, else `http://<alb dns name>/`. */
  public readonly url: pulumi.Output<string>;
  public readonly dnsName: pulumi.Output<string>;
  public readonly zoneId: pulumi.Output<string>;
  /**
   * With a domain: the validation records of `domain` and `origin.<domain>`, for other certificates of the same names
   * (the CDN's, a secondary region's) to wait on instead of creating their own.
   */
  public readonly validationRecordFqdns?: ValidationRecordFqdns;

  constructor(name: string, args: WebFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:compute:WebFleet", name, {}, opts);
    const instanceType = args.instanceType ?? "t4g.small";
    requireMatch("WebFleet", "instanceType", instanceType, INSTANCE_TYPE_RE, "an EC2 instance type such as t4g.small");
    const minSize = args.minSize ?? 2;
    const maxSize = args.maxSize ?? 6;
    const desired = args.desiredCapacity ?? minSize;
    requireRange("WebFleet", "minSize", minSize, 1, 1000);
    requireRange("WebFleet", "maxSize", maxSize, minSize, 1000);
    requireRange("WebFleet", "desiredCapacity", desired, minSize, maxSize);
    const port = args.appPort ?? 3000;
    requireRange("WebFleet", "appPort", port, 1024, 65535);
    const cpuTarget = args.cpuTargetPercent ?? 50;
    requireRange("WebFleet", "cpuTargetPercent", cpuTarget, 10, 90);
    if (args.requestsPerTarget !== undefined)
      requireRange("WebFleet", "requestsPerTarget", args.requestsPerTarget, 1, 100000);
    const https = args.dns !== undefined;

    // --- security group edges: viewers → ALB, ALB → instances (app port), nothing else ---
    if (args.viewerPrefixListId !== undefined) {
      const p = https ? 443 : 80;
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-cdn-in`,
        {
          securityGroupId: args.albSecurityGroupId,
          ipProtocol: "tcp",
          fromPort: p,
          toPort: p,
          prefixListId: args.viewerPrefixListId,
          description: `Port ${p} from CloudFront only`,
        },
        { parent: this },
      );
    } else {
      for (const p of https ? [80, 443] : [80]) {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-alb-${p}-in`,
          {
            securityGroupId: args.albSecurityGroupId,
            ipProtocol: "tcp",
            fromPort: p,
            toPort: p,
            cidrIpv4: "0.0.0.0/0",
            description: `Port ${p} from the internet`,
          },
          { parent: this },
        );
      }
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-to-web`,
      {
        securityGroupId: args.albSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: args.webSecurityGroupId,
        description: "To the web fleet",
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-web-from-alb`,
      {
        securityGroupId: args.webSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        referencedSecurityGroupId: args.albSecurityGroupId,
        description: "App port from the load balancer",
      },
      { parent: this },
    );

    // --- load balancer and its access logs ---
    // Who writes the logs depends on when the region opened (components/facts/elb-log-delivery.ts): the regional
    // ELB account before August 2022, the log-delivery service principal since. Logs land under the account's id.
    const accountId = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    this.accessLogs = new PrivateBucket(
      `${name}-access-logs`,
      {
        versioned: false,
        expireAfterDays: args.accessLogDays ?? 90,
        forceDestroy: !(args.deletionProtection ?? false),
        // ALB access logs support SSE-S3 only, which PrivateBucket uses.
        policyStatements: [
          accountId.apply((account) => ({
            Sid: "AlbLogDelivery",
            Effect: "Allow",
            Principal: elbLogDeliveryPrincipal(args.region),
            Action: "s3:PutObject",
            Resource: `{bucketArn}/alb/AWSLogs/${account}/*`,
          })),
        ],
      },
      { parent: this },
    );
    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [args.albSecurityGroupId],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: args.deletionProtection ?? false,
        // The app keeps its connections open longer (app/src/http/timeouts.ts), so the ALB is the side that closes.
        idleTimeout: ALB_IDLE_TIMEOUT_SECONDS,
        accessLogs: { bucket: this.accessLogs.bucketName, prefix: "alb", enabled: true },
      },
      { parent: this, dependsOn: [this.accessLogs] },
    );
    this.dnsName = this.loadBalancer.dnsName;
    this.zoneId = this.loadBalancer.zoneId;
    new aws.wafv2.WebAclAssociation(
      `${name}-waf`,
      { resourceArn: this.loadBalancer.arn, webAclArn: args.webAclArn },
      { parent: this },
    );

    this.targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        vpcId: args.vpcId,
        targetType: "instance",
        protocol: "HTTP",
        port,
        deregistrationDelay: 30,
        healthCheck: {
          path: "/readyz",
          matcher: "200",
          protocol: "HTTP",
          interval: 10,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
        stickiness: { type: "lb_cookie", enabled: args.sticky ?? true, cookieDuration: 86400 },
      },
      { parent: this },
    );

    const forward = { type: "forward", targetGroupArn: this.targetGroup.arn };
    const verify = args.originVerifyHeader;
    // Behind a CDN the listener answers 403 unless the request carries the CDN's secret header.
    const defaultActions = verify
      ? [
          {
            type: "fixed-response",
            fixedResponse: { contentType: "text/plain", statusCode: "403", messageBody: "Forbidden" },
          },
        ]
      : [forward];
    let serving: aws.lb.Listener;
    if (https) {
      const certificate = this.certificate(name, args.dns!);
      this.validationRecordFqdns = certificate.records;
      serving = new aws.lb.Listener(
        `${name}-https`,
        {
          loadBalancerArn: this.loadBalancer.arn,
          port: 443,
          protocol: "HTTPS",
          sslPolicy: ALB_TLS_POLICY,
          certificateArn: certificate.arn,
          defaultActions,
        },
        { parent: this },
      );
      new aws.lb.Listener(
        `${name}-http`,
        {
          loadBalancerArn: this.loadBalancer.arn,
          port: 80,
          protocol: "HTTP",
          defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
        },
        { parent: this },
      );
    } else {
      serving = new aws.lb.Listener(
        `${name}-http`,
        { loadBalancerArn: this.loadBalancer.arn, port: 80, protocol: "HTTP", defaultActions },
        { parent: this },
      );
    }
    if (verify) {
      new aws.lb.ListenerRule(
        `${name}-from-cdn`,
        {
          listenerArn: serving.arn,
          priority: 1,
          conditions: [{ httpHeader: { httpHeaderName: verify.name, values: [verify.value] } }],
          actions: [forward],
        },
        { parent: this },
      );
    }

    // --- instances ---
    this.role = new InstanceRole(`${name}`, { statements: args.statements }, { parent: this });
    this.launchTemplate = appLaunchTemplate(
      `${name}-lt`,
      {
        instanceType,
        profileName: this.role.profileName,
        securityGroupId: args.webSecurityGroupId,
        userData: args.userData,
        nameTag: name,
        launchTags: args.launchTags,
      },
      // Nothing launches from the profile before its policies exist (first boot reads the secrets).
      { parent: this, dependsOn: this.role.policies },
    );
    this.group = appAutoScalingGroup(
      `${name}-asg`,
      {
        subnetIds: args.privateSubnetIds,
        launchTemplate: this.launchTemplate,
        minSize,
        maxSize,
        desiredCapacity: desired,
        healthCheckType: "ELB",
        targetGroupArns: [this.targetGroup.arn],
        nameTag: name,
        launchTags: args.launchTags,
      },
      { parent: this, dependsOn: this.role.policies },
    );

    new aws.autoscaling.Policy(
      `${name}-cpu`,
      {
        autoscalingGroupName: this.group.name,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
          targetValue: cpuTarget,
        },
      },
      { parent: this },
    );
    if (args.requestsPerTarget !== undefined) {
      new aws.autoscaling.Policy(
        `${name}-requests`,
        {
          autoscalingGroupName: this.group.name,
          policyType: "TargetTrackingScaling",
          targetTrackingConfiguration: {
            predefinedMetricSpecification: {
              predefinedMetricType: "ALBRequestCountPerTarget",
              resourceLabel: pulumi.interpolate`${this.loadBalancer.arnSuffix}/${this.targetGroup.arnSuffix}`,
            },
            targetValue: args.requestsPerTarget,
          },
        },
        { parent: this },
      );
    }

    this.url = https ? pulumi.output(`https://${args.dns!.domain}/`) : pulumi.interpolate`http://${this.dnsName}/`;
    this.registerOutputs({
      url: this.url,
      dnsName: this.dnsName,
      targetGroupArn: this.targetGroup.arn,
      groupName: this.group.name,
    });
  }

  /**
   * A DNS-validated ACM certificate for the domain and `origin.<domain>`; resolves to its ARN once validated. The
   * validation records are this fleet's unless `dns.validationRecordFqdns` names another owner's.
   */
  private certificate(name: string, dns: WebFleetDns): { arn: pulumi.Output<string>; records: ValidationRecordFqdns } {
    const names = [dns.domain, `origin.${dns.domain}`];
    const cert = new aws.acm.Certificate(
      `${name}-cert`,
      { domainName: names[0], subjectAlternativeNames: names.slice(1), validationMethod: "DNS" },
      { parent: this },
    );
    const owned: ValidationRecordFqdns = {};
    const fqdns = names.map((domainName, i) => {
      const shared = dns.validationRecordFqdns?.[domainName];
      if (dns.validationRecordFqdns && shared === undefined) {
        throw new Error(
          `WebFleet: dns.validationRecordFqdns has no record for ${domainName}; it has ` +
            `${Object.keys(dns.validationRecordFqdns).join(", ") || "none"}`,
        );
      }
      if (shared !== undefined) return shared;
      const option = cert.domainValidationOptions.apply((options) => {
        const o = options.find((x) => x.domainName === domainName);
        if (!o) throw new Error(`ACM returned no validation record for ${domainName}`);
        return o;
      });
      // The one owner of this name's record. allowOverwrite adopts a record ACM asked for earlier (the same CNAME: ACM
      // reuses it per domain and account) instead of failing on it.
      const fqdn = new aws.route53.Record(
        `${name}-cert-validation-${i}`,
        {
          zoneId: dns.hostedZoneId,
          name: option.resourceRecordName,
          type: option.resourceRecordType,
          records: [option.resourceRecordValue],
          ttl: 300,
          allowOverwrite: true,
        },
        { parent: this },
      ).fqdn;
      owned[domainName] = fqdn;
      return fqdn;
    });
    const validation = new aws.acm.CertificateValidation(
      `${name}-cert-validated`,
      { certificateArn: cert.arn, validationRecordFqdns: fqdns },
      { parent: this },
    );
    return { arn: validation.certificateArn, records: dns.validationRecordFqdns ?? owned };
  }
}
