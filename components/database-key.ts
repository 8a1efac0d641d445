import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { accountAdministersKey } from "./iam";

/** Arguments for {@link DatabaseKey}. */
export interface DatabaseKeyArgs {
  /** The region the key lives in (the one its provider targets); RDS may use it only through RDS in this region. */
  region: string;
  /** What the key encrypts, for its description. */
  purpose: string;
  /**
   * Days KMS waits before deleting the key once it is scheduled for deletion (7–30).
   * @default 30
   */
  deletionWindowInDays?: number;
}

/**
 * A customer-managed KMS key for RDS in one region: step 11's cross-region replica and secondary Aurora clusters
 * in each secondary region are encrypted with it (a cross-region encrypted replica must name a key of its own
 * region).
 *
 * Why not the AWS-managed `alias/aws/rds`: AWS creates that key only when RDS first encrypts something in the
 * region, so looking it up fails in a region that never used RDS (issue 12, defect 12). This key exists before
 * anything needs it. It must be chosen before the first step-11 deploy: `kmsKeyId` replaces an RDS instance or
 * cluster when it changes (ForceNew in terraform-provider-aws `aws_db_instance` and `aws_rds_cluster`), so moving
 * a running secondary region from one key to another rebuilds its replica and clusters from the primary.
 *
 * The key policy follows the AWS-managed RDS key's: the account administers the key (IAM policies decide who may
 * use it), and RDS may use it on behalf of principals of the account, only through RDS in this region
 * (`kms:ViaService`, `kms:CallerAccount`). Source (2026-12-01): AWS KMS Developer Guide, "Default key policy"
 * (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html) and "kms:ViaService"
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service);
 * RDS User Guide, "Key management"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.Keys.html).
 * Rotation is yearly (`enableKeyRotation`); old key material stays to decrypt what it encrypted.
 *
 * Cost: $1 a month per key, plus $0.03 per 10,000 requests.
 */
export class DatabaseKey extends pulumi.ComponentResource {
  public readonly key: aws.kms.Key;
  /** ARN of the key, for `kmsKeyId`. */
  public readonly arn: pulumi.Output<string>;

  constructor(name: string, args: DatabaseKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:database:DatabaseKey", name, {}, opts);
    const deletionWindow = args.deletionWindowInDays ?? 30;
    if (!Number.isInteger(deletionWindow) || deletionWindow < 7 || deletionWindow > 30) {
      throw new Error(
        `DatabaseKey: deletionWindowInDays must be an integer from 7 to 30, got ${JSON.stringify(deletionWindow)}`,
      );
    }
    const caller = aws.getCallerIdentityOutput({}, { parent: this });
    // The partition comes from the caller's own ARN (arn:<partition>:iam::...), so aws-cn and aws-us-gov work too.
    const policy = pulumi
      .all([caller.accountId, caller.arn])
      .apply(([account, callerArn]) =>
        JSON.stringify(databaseKeyPolicy(account, callerArn.split(":")[1], args.region)),
      );
    this.key = new aws.kms.Key(
      `${name}`,
      {
        description: `scale-ladder: ${args.purpose} (${args.region})`,
        enableKeyRotation: true,
        deletionWindowInDays: deletionWindow,
        policy,
      },
      { parent: this },
    );
    this.arn = this.key.arn;
    this.registerOutputs({ arn: this.arn });
  }
}

/** The key policy of {@link DatabaseKey}: the account administers, RDS in `region` uses. */
export function databaseKeyPolicy(account: string, partition: string, region: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      accountAdministersKey(partition, account),
      {
        Sid: "RdsUsesKey",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [
          ...["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
          ...["kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"],
        ],
        Resource: "*",
        Condition: { StringEquals: { "kms:CallerAccount": account, "kms:ViaService": `rds.${region}.amazonaws.com` } },
      },
    ],
  };
}
