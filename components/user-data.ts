import * as pulumi from "@pulumi/pulumi";
import { EnvVar, renderEnvShell } from "./app-env";

/** Where the app's database lives, as the boot script sees it. */
export type DatabaseSource =
  /** Step 1: PostgreSQL on the same box, its password generated on the box and never leaving it. */
  | { kind: "local" }
  /** Step 2 on: RDS, credentials read from the Secrets Manager secret RDS manages. */
  | { kind: "rds"; host: pulumi.Input<string>; port: pulumi.Input<number>; dbName: string; secretArn: pulumi.Input<string> };

/** What the boot script needs; none of it is secret. */
export interface AppUserDataArgs {
  /** SSM parameter naming the current release (`s3://bucket/key`). */
  releaseParameterName: pulumi.Input<string>;
  /** The catalog database. */
  database: DatabaseSource;
  /**
   * The app's environment, in order: each variable's name and how its value is obtained (stacks/app-environment.ts
   * decides them). Rendered into /run/shop/env at every service start.
   */
  environment: pulumi.Input<EnvVar<pulumi.Input<string>>[]>;
  /**
   * Written into the script as a comment, so that a fleet's launch template changes with each release and the
   * instance refresh rolls it out. (The single server leaves it out and restarts through SSM instead.)
   */
  releaseUri?: pulumi.Input<string>;
  /**
   * Which entry point of the artifact the service runs.
   * @default "server"
   */
  mode?: "server" | "worker";
  /**
   * Step 10: run the CloudWatch agent with this SSM configuration, write the service's output to
   * `/var/log/shop/<mode>.log` (which the agent ships). (The app's embedded-metrics variables are in `environment`.)
   */
  observability?: { agentConfigParameterName: pulumi.Input<string> };
}

/** AWS rejects user data over 16 KB; checked here so a growing script fails at preview, not at launch. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/**
 * The boot script of an app server on Amazon Linux 2023. It installs Node.js 22 (and PostgreSQL at step 1), and
 * writes a systemd unit whose start-up fetches the current release and renders the environment from Secrets Manager
 * *every time the service starts*: a restart picks up a new release or a rotated database password, and no secret is
 * ever written into user data, which anyone with `ec2:DescribeInstanceAttribute` can read.
 */
export function appUserData(args: AppUserDataArgs): pulumi.Output<string> {
  const db = args.database;
  const inputs: { [K in keyof ResolvedInputs]: pulumi.Input<ResolvedInputs[K]> } = {
    releaseParameter: args.releaseParameterName,
    dbSecretArn: db.kind === "rds" ? db.secretArn : "",
    release: args.releaseUri ?? "",
    agentConfigParameter: args.observability?.agentConfigParameterName ?? "",
    // pulumi.output unwraps every Input inside the variables (hosts, ARNs) into plain strings.
    env: pulumi.output(args.environment) as pulumi.Output<EnvVar<string>[]>,
  };
  return pulumi.output(inputs).apply((resolved) => {
    const script = renderScript({ ...args, ...(resolved as ResolvedInputs) });
    const size = Buffer.byteLength(script, "utf8");
    if (size > USER_DATA_LIMIT_BYTES) throw new Error(`user data is ${size} bytes; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}`);
    return script;
  });
}

type Resolved = Omit<AppUserDataArgs, "environment"> & ResolvedInputs;

interface ResolvedInputs {
  releaseParameter: string;
  dbSecretArn: string;
  release: string;
  agentConfigParameter: string;
  env: EnvVar<string>[];
}

function renderScript(a: Resolved): string {
  const local = a.database.kind === "local";
  const env = renderEnvShell(a.env);
  return `#!/bin/bash
# scale-ladder app server boot script (Amazon Linux 2023). Contains no secrets: they are read at service start.
${a.release ? `# release: ${a.release}\n` : ""}set -euo pipefail
exec > >(tee -a /var/log/shop-boot.log) 2>&1

dnf install -y nodejs22 jq tar gzip${local ? " postgresql16-server postgresql16" : ""}
# AL2023 installs versioned binaries (node-22); make sure a plain "node" resolves to it.
command -v node >/dev/null || ln -sf "$(command -v node-22)" /usr/local/bin/node
useradd --system --home-dir /opt/shop --shell /sbin/nologin shop || true
install -d -o root -g root -m 0755 /opt/shop /opt/shop/bin /opt/shop/releases /etc/shop
${local ? localPostgres() : `curl -fsS --retry 5 -o /etc/shop/rds-ca.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem`}

cat > /opt/shop/bin/imds-region <<'EOF'
#!/bin/bash
# IMDSv2 only: a session token first, then the region.
TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
curl -fsS -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region
EOF

cat > /opt/shop/bin/fetch-release <<'EOF'
#!/bin/bash
# Unpacks the release the SSM parameter names (once per release) and points /opt/shop/current at it.
set -euo pipefail
REGION=$(/opt/shop/bin/imds-region)
URI=$(aws ssm get-parameter --region "$REGION" --name '${a.releaseParameter}' --query Parameter.Value --output text)
DIR=/opt/shop/releases/$(basename "$URI" .tgz)
if [ ! -d "$DIR" ]; then
  TMP=$(mktemp -d /opt/shop/releases/.incoming.XXXXXX)
  aws s3 cp --region "$REGION" --only-show-errors "$URI" "$TMP/release.tgz"
  tar -xzf "$TMP/release.tgz" -C "$TMP" && rm "$TMP/release.tgz"
  mv "$TMP" "$DIR"
fi
ln -sfn "$DIR" /opt/shop/current
EOF

cat > /opt/shop/bin/render-env <<'EOF'
#!/bin/bash
# Writes the service environment to a root-owned tmpfs file readable by the service only.
set -euo pipefail
umask 077
REGION=$(/opt/shop/bin/imds-region)
# A secret is read in the region its ARN names: secondary regions read the primary's.
secret() { aws secretsmanager get-secret-value --region "$(cut -d: -f4 <<<"$1")" --secret-id "$1" --query SecretString --output text; }
current_version() { aws secretsmanager get-secret-value --region "$(cut -d: -f4 <<<"$1")" --secret-id "$1" --query VersionId --output text; }
${
    // Remembered so the watcher below can tell when RDS has rotated the password.
    a.database.kind === "rds" ? `current_version '${a.dbSecretArn}' > /run/shop/db-secret-version.new\n` : ""
  }${env.prelude}
install -d -m 0700 /run/shop
{
${env.echoes.map((line) => `  ${line}`).join("\n")}
} > /run/shop/env
if [ -f /run/shop/db-secret-version.new ]; then mv /run/shop/db-secret-version.new /run/shop/db-secret-version; fi
EOF
chmod 0755 /opt/shop/bin/*

cat > /etc/systemd/system/shop.service <<'EOF'
[Unit]
Description=scale-ladder shop ${a.mode ?? "server"}
Wants=network-online.target${local ? " postgresql.service" : ""}
After=network-online.target${local ? " postgresql.service" : ""}

[Service]
User=shop
Group=shop
# "+" runs the preparation as root: it reads secrets the shop user cannot.
ExecStartPre=+/opt/shop/bin/fetch-release
ExecStartPre=+/opt/shop/bin/render-env
EnvironmentFile=/run/shop/env
# "-": the release directory appears during ExecStartPre, on the very first start.
WorkingDirectory=-/opt/shop/current
ExecStart=/usr/bin/env node /opt/shop/current/${a.mode === "worker" ? "worker" : "server"}.js
Restart=always
RestartSec=2
KillSignal=SIGTERM${a.observability ? `\nStandardOutput=append:/var/log/shop/${a.mode ?? "server"}.log\nStandardError=inherit` : ""}
TimeoutStopSec=30
AmbientCapabilities=CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
NoNewPrivileges=true
ProtectSystem=strict
ProtectHome=true
PrivateTmp=true
ReadOnlyPaths=/opt/shop

[Install]
WantedBy=multi-user.target
EOF

${a.observability ? cloudWatchAgent(a) : ""}
${a.database.kind === "rds" ? secretWatcher(a) : ""}
systemctl daemon-reload
systemctl enable --now shop.service${a.database.kind === "rds" ? "\nsystemctl enable --now shop-secret-watch.timer" : ""}
`;
}

/**
 * RDS rotates a password it manages every 7 days, and the service reads it only when it starts: every five minutes
 * (randomised, so a fleet does not restart at once) a timer compares the secret's current version with the one the
 * service started with, and restarts the service — gracefully, it drains — when they differ.
 */
function secretWatcher(a: Resolved): string {
  return `cat > /opt/shop/bin/watch-db-secret <<'EOF'
#!/bin/bash
set -euo pipefail
ARN='${a.dbSecretArn}'
NOW=$(aws secretsmanager get-secret-value --region "$(cut -d: -f4 <<<"$ARN")" --secret-id "$ARN" --query VersionId --output text)
if [ "$NOW" != "$(cat /run/shop/db-secret-version 2>/dev/null)" ]; then systemctl restart shop.service; fi
EOF
chmod 0755 /opt/shop/bin/watch-db-secret
cat > /etc/systemd/system/shop-secret-watch.service <<'EOF'
[Unit]
Description=Restart the shop when its database password has been rotated
[Service]
Type=oneshot
ExecStart=/opt/shop/bin/watch-db-secret
EOF
cat > /etc/systemd/system/shop-secret-watch.timer <<'EOF'
[Unit]
Description=Check the database secret for rotation
[Timer]
OnBootSec=10min
OnUnitActiveSec=5min
RandomizedDelaySec=5min
[Install]
WantedBy=timers.target
EOF`;
}

/** Step 10: the CloudWatch agent, configured from SSM, and rotation of the log file it ships. */
function cloudWatchAgent(a: Resolved): string {
  return `dnf install -y amazon-cloudwatch-agent
install -d -m 0755 /var/log/shop
cat > /etc/logrotate.d/shop <<'EOF'
/var/log/shop/*.log {
  daily
  rotate 3
  compress
  missingok
  copytruncate
}
EOF
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c 'ssm:${a.agentConfigParameter}'`;
}

function localPostgres(): string {
  return `# Step 1: the database shares the box. Its password is made here and never leaves the instance.
if [ ! -f /var/lib/pgsql/data/PG_VERSION ]; then
  postgresql-setup --initdb
  sed -ri 's/^(host\\s+all\\s+all\\s+(127\\.0\\.0\\.1\\/32|::1\\/128)\\s+)\\S+/\\1scram-sha-256/' /var/lib/pgsql/data/pg_hba.conf
fi
systemctl enable --now postgresql
if [ ! -f /etc/shop/local-db-password ]; then
  ( umask 077; openssl rand -hex 24 > /etc/shop/local-db-password )
  PW=$(cat /etc/shop/local-db-password)
  runuser -u postgres -- psql -v ON_ERROR_STOP=1 -c "CREATE ROLE shop LOGIN PASSWORD '$PW'" -c "CREATE DATABASE shop OWNER shop"
fi`;
}
