import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { Statement } from "./iam";
import { PrivateBucket, SERVER_ACCESS_LOG_PREFIX } from "./private-bucket";

/** Arguments for {@link AppArtifact}. */
export interface AppArtifactArgs {
  /**
   * The tarball `npm run build` makes (`dist/shop.tgz`): the bundled server and worker, migrations, static files.
   * @example "dist/shop.tgz"
   */
  path: string;
  /**
   * Let `pulumi destroy` delete the bucket with its releases.
   * @default false
   */
  forceDestroy?: boolean;
  /**
   * Bucket (made with `PrivateBucket`'s `receivesServerAccessLogs`) that receives the releases bucket's S3 server
   * access logs, under `s3/artifact/`: who read which release, when (prod).
   * @default undefined (no server access logs)
   */
  accessLogBucket?: pulumi.Input<string>;
}

/**
 * How the app reaches the servers: a private bucket of releases, each stored under its content hash
 * (`releases/shop-<sha256>.tgz`, so a rebuild that changes nothing changes nothing), and an SSM parameter that names
 * the current release. Servers read both through their role at every service start; nothing is public.
 *
 * Cost: a few cents a month (S3 storage of the releases; the standard SSM parameter is free).
 */
export class AppArtifact extends pulumi.ComponentResource {
  public readonly bucket: PrivateBucket;
  /** The object key of the current release. */
  public readonly key: string;
  /** `s3://bucket/key` of the current release. */
  public readonly uri: pulumi.Output<string>;
  /** Name of the SSM parameter that holds `uri`. */
  public readonly releaseParameterName: pulumi.Output<string>;
  /** What a server needs to fetch the release: read the pointer, read the releases. */
  public readonly readStatements: Statement[];

  constructor(name: string, args: AppArtifactArgs, opts?: pulumi.ComponentResourceOptions) {
    super("scale-ladder:app:AppArtifact", name, {}, opts);
    if (!existsSync(args.path)) {
      throw new pulumi.RunError(
        `AppArtifact: path ${JSON.stringify(args.path)} does not exist. Run \`npm run build\` first: it builds ` +
          `app/ into that file.`,
      );
    }
    const digest = createHash("sha256").update(readFileSync(args.path)).digest("hex").slice(0, 16);
    this.key = `releases/shop-${digest}.tgz`;

    const serverAccessLogs =
      args.accessLogBucket !== undefined
        ? { targetBucket: args.accessLogBucket, prefix: `${SERVER_ACCESS_LOG_PREFIX}artifact/` }
        : undefined;
    this.bucket = new PrivateBucket(
      `${name}-bucket`,
      { forceDestroy: args.forceDestroy, serverAccessLogs },
      { parent: this },
    );
    const object = new aws.s3.BucketObjectv2(
      `${name}-release`,
      {
        bucket: this.bucket.bucket.id,
        key: this.key,
        source: new pulumi.asset.FileAsset(args.path),
        contentType: "application/gzip",
      },
      { parent: this },
    );
    this.uri = pulumi.interpolate`s3://${this.bucket.bucketName}/${object.key}`;
    const parameter = new aws.ssm.Parameter(
      `${name}-current`,
      { type: "String", value: this.uri, description: "S3 URI of the app release the servers run" },
      { parent: this },
    );
    this.releaseParameterName = parameter.name;
    this.readStatements = [
      {
        sid: "ReadReleases",
        actions: ["s3:GetObject", "s3:GetObjectVersion"],
        resources: [pulumi.interpolate`${this.bucket.arn}/releases/*`],
      },
      { sid: "ReadCurrentRelease", actions: ["ssm:GetParameter"], resources: [parameter.arn] },
    ];
    this.registerOutputs({ uri: this.uri, releaseParameterName: this.releaseParameterName });
  }
}
