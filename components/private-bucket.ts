import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Arguments for {@link PrivateBucket}. */
export interface PrivateBucketArgs {
  /**
   * Keep every version of every object (artifacts, so a bad release can be rolled back).
   * @default true
   */
  versioned?: boolean;
  /**
   * Days before non-current versions are deleted.
   * @default 30
   */
  noncurrentVersionDays?: number;
  /**
   * Days after which current objects expire (logs); unset keeps them.
   * @default undefined
   */
  expireAfterDays?: number;
  /**
   * Extra bucket policy statements (e.g. log delivery). Resources may reference `{bucketArn}`, which is replaced
   * with this bucket's ARN.
   * @default []
   */
  policyStatements?: pulumi.Input<Record<string, unknown>>[];
  /**
   * Leave the bucket policy to the owner, who builds it with {@link bucketPolicyDocument} once it knows the ARNs it
   * needs (a CDN's distribution is created after its origin bucket).
   * @default false
   */
  externalPolicy?: boolean;
  /**
   * Allow `pulumi destroy` to empty the bucket. Off in prod so a destroy never silently takes the data with it.
   * @default false
   */
  forceDestroy?: boolean;
  /**
   * S3 server access logging: every request on this bucket is logged into `targetBucket` (a bucket made with
   * `receivesServerAccessLogs`, in the same region and account) under `prefix`.
   * @default undefined (no server access logs)
   * @example { targetBucket: logs.bucketName, prefix: "s3/artifact/" }
   */
  serverAccessLogs?: { targetBucket: pulumi.Input<string>; prefix: string };
  /**
   * Make this the destination of S3 server access logs: its policy lets the S3 logging service
   * (`logging.s3.amazonaws.com`) put objects under `s3/`, for source buckets of this account only. With ACLs
   * disabled (bucket-owner-enforced ownership) a bucket policy is the only way to grant it; the SSE-S3 default
   * encryption every PrivateBucket has is the one server access logs support (not SSE-KMS).
   * @default false
   */
  receivesServerAccessLogs?: boolean;
}

/**
 * The prefix under which a bucket made with `receivesServerAccessLogs` accepts server access logs; give each source
 * bucket its own folder below it.
 */
export const SERVER_ACCESS_LOG_PREFIX = "s3/";

/**
 * An S3 bucket nobody outside the account can read: Block Public Access on all four switches, bucket-owner-enforced
 * ownership (no ACLs), SSE-S3 encryption with bucket keys, versioning, and a policy that refuses plain HTTP.
 * Readers are granted access through their IAM role, never through the bucket.
 *
 * Cost: storage at $0.023/GB-month plus requests; an app artifact of a few MB is cents a month.
 */
export class PrivateBucket extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly bucketName: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  private readonly publicAccess: aws.s3.BucketPublicAccessBlock;

  constructor(name: string, args: PrivateBucketArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:storage:PrivateBucket", name, {}, opts);
    this.bucket = new aws.s3.Bucket(`${name}`, { forceDestroy: args.forceDestroy ?? false }, { parent: this });
    this.bucketName = this.bucket.bucket;
    this.arn = this.bucket.arn;

    this.publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: this.bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      {
        bucket: this.bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
      { parent: this },
    );
    const versioned = args.versioned ?? true;
    if (versioned) {
      new aws.s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } },
        { parent: this },
      );
    }
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: this.bucket.id,
        rules: [
          {
            id: "housekeeping",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            ...(versioned ? { noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 } } : {}),
            ...(args.expireAfterDays !== undefined ? { expiration: { days: args.expireAfterDays } } : {}),
          },
        ],
      },
      { parent: this },
    );
    if (args.serverAccessLogs !== undefined) {
      new aws.s3.BucketLogging(
        `${name}-server-access-logs`,
        {
          bucket: this.bucket.id,
          targetBucket: args.serverAccessLogs.targetBucket,
          targetPrefix: args.serverAccessLogs.prefix,
        },
        { parent: this },
      );
    }
    const statements = [...(args.policyStatements ?? [])];
    if (args.receivesServerAccessLogs) {
      // Source (read 2026-12-01): S3 User Guide, "Enabling Amazon S3 server access logging", "Grant permissions to the
      // logging service principal by using a bucket policy"
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html); destination
      // requirements (same region and account; SSE-S3 only, "Server access log delivery ... does not support SSE-KMS"
      // default encryption) in "Logging requests with server access logging".
      const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
      statements.push(
        account.apply((accountId) => ({
          Sid: "S3ServerAccessLogDelivery",
          Effect: "Allow",
          Principal: { Service: "logging.s3.amazonaws.com" },
          Action: "s3:PutObject",
          Resource: `{bucketArn}/${SERVER_ACCESS_LOG_PREFIX}*`,
          Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        })),
      );
    }
    if (!args.externalPolicy) {
      this.attachPolicy(`${name}-policy`, statements);
    } else if (args.receivesServerAccessLogs) {
      throw new Error(
        "PrivateBucket: receivesServerAccessLogs needs the bucket's own policy; it cannot be combined with " +
          "externalPolicy",
      );
    }
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }

  /** Creates the bucket policy: TLS only, plus `statements`. Called once, by the constructor or by the owner. */
  attachPolicy(name: string, statements: pulumi.Input<Record<string, unknown>>[]): aws.s3.BucketPolicy {
    return new aws.s3.BucketPolicy(
      name,
      { bucket: this.bucket.id, policy: bucketPolicyDocument(this.arn, statements) },
      // The account-level check rejects any policy PUT that races the public access block.
      { parent: this, dependsOn: [this.publicAccess] },
    );
  }
}

/**
 * A bucket policy that refuses plain HTTP, plus extra statements; `{bucketArn}` in a statement is replaced by the
 * bucket's ARN.
 */
export function bucketPolicyDocument(
  bucketArn: pulumi.Input<string>,
  statements: pulumi.Input<Record<string, unknown>>[],
): pulumi.Output<string> {
  return pulumi.all([bucketArn, pulumi.all(statements.map((st) => pulumi.output(st)))]).apply(([arn, extra]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
        ...extra.map((statement) => JSON.parse(JSON.stringify(statement).split("{bucketArn}").join(arn))),
      ],
    }),
  );
}
