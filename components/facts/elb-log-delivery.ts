/**
 * Who writes Application Load Balancer access logs into the bucket, per region: the fact that `pulumi preview`
 * cannot check and that decides whether any log is ever delivered. The web fleet's log bucket policy and the deploy
 * rules read this table.
 *
 * Source (read 2026-12-01): Elastic Load Balancing User Guide, "Enable access logs for your Application Load
 * Balancer", step 2 "Attach a policy to your S3 bucket"
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html):
 * - Regions available before August 2022: grant `s3:PutObject` to the region's Elastic Load Balancing account
 *   (`arn:aws:iam::<elb-account-id>:root`), listed there region by region.
 * - Regions available as of August 2022 or later: grant it to the service principal
 *   `logdelivery.elasticloadbalancing.amazonaws.com`; those regions have no such account.
 * The same accounts are the Terraform AWS provider's `aws_elb_service_account` table
 * (hashicorp/terraform-provider-aws, internal/service/elb/service_account_data_source.go), which answers
 * "unsupported AWS Region" for every region outside it — why the program reads this table instead of
 * `aws.elb.getServiceAccount`.
 *
 * The table is closed: AWS adds no account for a new region, so a region that is not listed here is a newer one and
 * gets the service principal. GovCloud and China are left out on purpose: the config refuses other partitions.
 */

/** The service principal that delivers access logs in regions opened in August 2022 or later. */
export const ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com";

/** Region → Elastic Load Balancing account id, for the regions (aws partition) opened before August 2022. */
export const ELB_LOG_DELIVERY_ACCOUNTS: Readonly<Record<string, string>> = {
  "us-east-1": "127311923021",
  "us-east-2": "033677994240",
  "us-west-1": "027434742980",
  "us-west-2": "797873946194",
  "af-south-1": "098369216593",
  "ap-east-1": "754344448648",
  "ap-southeast-3": "589379963580",
  "ap-south-1": "718504428378",
  "ap-northeast-3": "383597477331",
  "ap-northeast-2": "600734575887",
  "ap-southeast-1": "114774131450",
  "ap-southeast-2": "783225319266",
  "ap-northeast-1": "582318560864",
  "ca-central-1": "985666609251",
  "eu-central-1": "054676820928",
  "eu-west-1": "156460612806",
  "eu-west-2": "652711504416",
  "eu-south-1": "635631232127",
  "eu-west-3": "009996457667",
  "eu-north-1": "897822967062",
  "me-south-1": "076674570225",
  "sa-east-1": "507241528517",
};

/** The `Principal` of the bucket policy statement that lets the region's load balancers write their logs. */
export function elbLogDeliveryPrincipal(region: string): { AWS: string } | { Service: string } {
  const account = ELB_LOG_DELIVERY_ACCOUNTS[region];
  return account ? { AWS: `arn:aws:iam::${account}:root` } : { Service: ELB_LOG_DELIVERY_SERVICE };
}
