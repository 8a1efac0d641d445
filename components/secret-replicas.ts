/**
 * Secrets Manager replication, for the secrets a step-11 secondary region reads (the app's secrets, the catalog's
 * and the shards' credentials): each region reads its own replica, so a primary region that is down cannot stop
 * another region's servers from booting or opening database connections.
 *
 * What AWS says (Secrets Manager User Guide, "Replicate AWS Secrets Manager secrets across Regions",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets.html, read 2026-12-02): a replica
 * keeps the primary's name and its ARN is the primary's with the region changed; a new value (a rotation) in the
 * primary region propagates to every replica; a replica is encrypted with the key named for its region, by default
 * `aws/secretsmanager` there, which lets any principal of the account that may call Secrets Manager decrypt through
 * it (so no `kms:Decrypt` grant is needed, and none is given). A secret RDS manages (`manageMasterUserPassword`)
 * belongs to RDS and is not ours to replicate: the ladder's step-11 secrets are all generated ones
 * (components/database.ts switches the catalog to generated credentials once anything replicates from it).
 */
import * as pulumi from "@pulumi/pulumi";

/** AWS's own Secrets Manager key of a region, which encrypts a replica unless another is named. */
export const AWS_SECRETS_KEY = "alias/aws/secretsmanager";

/** An AWS region name such as `eu-west-1`. */
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/**
 * A Secret's `replicas` argument: one replica in each of `regions`, with AWS's own key there.
 * ({@link AWS_SECRETS_KEY}.) Refuses a name that is not a region, and a region named twice (AWS refuses both at
 * deploy time).
 * @param component who asks, for the error message.
 */
export function secretReplicas(component: string, regions: string[]): { region: string; kmsKeyId: string }[] {
  for (const region of regions) {
    if (!REGION.test(region))
      throw new Error(`${component}: replicaRegions has ${JSON.stringify(region)}, which is not an AWS region name`);
  }
  const twice = regions.find((r, i) => regions.indexOf(r) !== i);
  if (twice !== undefined) throw new Error(`${component}: replicaRegions names ${twice} twice`);
  // The key named explicitly, as AWS reports it: without it the provider's state (which holds the alias AWS reports)
  // and the program differ, and every `pulumi up` showed an update (pulumi/pulumi-aws#2270).
  return regions.map((region) => ({ region, kmsKeyId: AWS_SECRETS_KEY }));
}

/** The ARN of a secret's replica in `region`: the secret's ARN with the region changed. */
export function replicaArnOf(arn: string, region: string): string {
  const parts = arn.split(":");
  if (parts.length < 7 || parts[2] !== "secretsmanager")
    throw new Error(`replicaSecretArn: ${JSON.stringify(arn)} is not a Secrets Manager secret ARN`);
  parts[3] = region;
  return parts.join(":");
}

/** {@link replicaArnOf} for the ARN a resource gives. */
export function replicaSecretArn(arn: pulumi.Input<string>, region: string): pulumi.Output<string> {
  return pulumi.output(arn).apply((primary) => replicaArnOf(primary, region));
}
