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
}

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
      { bucket: this.bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, { parent: this });
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-sse`,
      { bucket: this.bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
      { parent: this },
    );
    const versioned = args.versioned ?? true;
    if (versioned) {
      new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } }, { parent: this });
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
    if (!args.externalPolicy) {
      this.attachPolicy(`${name}-policy`, args.policyStatements ?? []);
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
export function bucketPolicyDocument(bucketArn: pulumi.Input<string>, statements: pulumi.Input<Record<string, unknown>>[]): pulumi.Output<string> {
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
