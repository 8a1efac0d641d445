import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { InstanceRole, Statement } from "./iam";
import { INSTANCE_TYPE_RE, al2023AmiParameter } from "./instance-types";
import { requireMatch, requireRange } from "./validate";

/** The association's command after the release line: restart the app if its unit is enabled. */
const RESTART_IF_ENABLED = "if systemctl is-enabled --quiet shop; then systemctl restart shop; fi";

/** Arguments for {@link SingleServer}. */
export interface SingleServerArgs {
  /** A public subnet. */
  subnetId: pulumi.Input<string>;
  /** The web tier's security group; this component opens HTTP on it to the world, and nothing else. */
  securityGroupId: pulumi.Input<string>;
  /** Boot script (see `appUserData`). A change replaces the server, because cloud-init runs it only once. */
  userData: pulumi.Input<string>;
  /** What the server may do beyond Session Manager. */
  statements: Statement[];
  /**
   * The release the server should run. When it changes, an SSM association restarts the service, which fetches the
   * new release: a new build ships without replacing the server (and its on-box database at step 1).
   */
  releaseUri?: pulumi.Input<string>;
  /**
   * EC2 instance type; Graviton (`t4g`, `m7g`, ...) picks the arm64 AMI.
   * @default "t4g.small"
   */
  instanceType?: string;
  /**
   * Encrypted gp3 root volume size, GiB.
   * @default 20
   */
  rootVolumeGb?: number;
  /**
   * Port the app listens on, opened to the world.
   * @default 80
   */
  port?: number;
}

/**
 * Step 1 (and 2): the whole site on one EC2 instance. Amazon Linux 2023 from the public SSM AMI parameter, in a
 * public subnet behind an Elastic IP that outlives the instance (DNS, when configured, belongs to the stack: the
 * same record follows the site to the load balancer at step 3); only HTTP is open (TLS starts at step 3, where the
 * load balancer holds the certificate, so there is no 443 with nothing behind it); no SSH key and no port 22 —
 * operators use Session Manager; IMDSv2 required with a hop limit of 1; an encrypted gp3 root volume.
 *
 * The AMI is read once and then ignored (`ignoreChanges: ["ami"]`): a newly published AMI must not replace a server
 * that holds the step-1 database. Patch it in place (`dnf upgrade` through SSM) instead.
 *
 * Cost: t4g.small is about $12/month, 20 GiB gp3 $1.60, the Elastic IP $3.60 (public IPv4 is billed) in us-east-1.
 */
export class SingleServer extends pulumi.ComponentResource {
  public readonly instance: aws.ec2.Instance;
  public readonly eip: aws.ec2.Eip;
  public readonly role: InstanceRole;
  public readonly publicIp: pulumi.Output<string>;
  /** `http://<Elastic IP>/` */
  public readonly url: pulumi.Output<string>;
  public readonly instanceId: pulumi.Output<string>;

  constructor(name: string, args: SingleServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:compute:SingleServer", name, {}, opts);
    const instanceType = args.instanceType ?? "t4g.small";
    requireMatch(
      "SingleServer",
      "instanceType",
      instanceType,
      INSTANCE_TYPE_RE,
      "an EC2 instance type such as t4g.small",
    );
    const rootVolumeGb = args.rootVolumeGb ?? 20;
    requireRange("SingleServer", "rootVolumeGb", rootVolumeGb, 8, 16384);
    const port = args.port ?? 80;
    requireRange("SingleServer", "port", port, 1, 65535);

    new aws.vpc.SecurityGroupIngressRule(
      `${name}-http-in`,
      {
        securityGroupId: args.securityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        description: "HTTP from the internet to the single server",
      },
      { parent: this },
    );

    this.role = new InstanceRole(`${name}`, { statements: args.statements }, { parent: this });
    const ami = aws.ssm.getParameterOutput({ name: al2023AmiParameter(instanceType) }, { parent: this });

    this.instance = new aws.ec2.Instance(
      `${name}`,
      {
        ami: ami.value,
        instanceType,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [args.securityGroupId],
        iamInstanceProfile: this.role.profileName,
        associatePublicIpAddress: false, // the Elastic IP is the address; no second, ephemeral one
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        },
        rootBlockDevice: { volumeType: "gp3", volumeSize: rootVolumeGb, encrypted: true, deleteOnTermination: true },
        monitoring: true,
        userData: args.userData,
        userDataReplaceOnChange: true,
        tags: { Name: name },
      },
      // The profile can exist before its policies do; a first boot without them reads no secret and never starts.
      { parent: this, ignoreChanges: ["ami"], dependsOn: this.role.policies },
    );
    this.instanceId = this.instance.id;

    this.eip = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", tags: { Name: name } }, { parent: this });
    new aws.ec2.EipAssociation(
      `${name}-eip-association`,
      { allocationId: this.eip.allocationId, instanceId: this.instance.id },
      { parent: this },
    );
    this.publicIp = this.eip.publicIp;

    if (args.releaseUri !== undefined) {
      new aws.ssm.Association(
        `${name}-rollout`,
        {
          name: "AWS-RunShellScript",
          targets: [{ key: "InstanceIds", values: [this.instance.id] }],
          // The release URI is part of the command, so a new release updates the association, which runs it again.
          parameters: {
            commands: pulumi.interpolate`# release ${args.releaseUri}\n${RESTART_IF_ENABLED}`,
          },
        },
        { parent: this },
      );
    }

    this.url = pulumi.interpolate`http://${this.publicIp}/`;
    this.registerOutputs({ url: this.url, publicIp: this.publicIp, instanceId: this.instanceId });
  }
}
