/**
 * What each FIS action needs of the experiment's role: the "Permissions" of each action in the AWS FIS User Guide,
 * "AWS FIS actions reference" (https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html), and the
 * managed policies AWSFaultInjectionSimulatorRDSAccess, -EC2Access, -NetworkAccess and -SSMAccess
 * (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/), read 2026-12-02. The program's FaultDrills
 * grants from this table and the pack's fis-role-least-privilege policy (fis.ts) checks against it. The pack is
 * deployed on its own, so the table lives in its folder, in a file that imports nothing: the program reads it without
 * loading the policy runtime (`@pulumi/policy`).
 */
export const FIS_ACTION_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  "aws:ec2:terminate-instances": ["ec2:TerminateInstances", "ec2:DescribeInstances"],
  // kms:CreateGrant: starting an instance whose EBS volumes are encrypted with a KMS key.
  "aws:ec2:stop-instances": ["ec2:StopInstances", "ec2:StartInstances", "ec2:DescribeInstances", "kms:CreateGrant"],
  "aws:rds:reboot-db-instances": ["rds:RebootDBInstance", "rds:DescribeDBInstances"],
  "aws:rds:failover-db-cluster": ["rds:FailoverDBCluster", "rds:DescribeDBClusters"],
  "aws:elasticache:replicationgroup-interrupt-az-power": [
    "elasticache:InterruptClusterAzPower",
    "elasticache:DescribeReplicationGroups",
    "tag:GetResources",
  ],
  "aws:network:disrupt-connectivity": [
    "ec2:CreateNetworkAcl",
    "ec2:CreateNetworkAclEntry",
    "ec2:CreateTags",
    "ec2:DeleteNetworkAcl",
    "ec2:DescribeManagedPrefixLists",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ec2:GetManagedPrefixListEntries",
    "ec2:ReplaceNetworkAclAssociation",
  ],
  "aws:ssm:send-command": ["ssm:SendCommand", "ssm:ListCommands", "ssm:CancelCommand"],
};
