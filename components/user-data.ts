import * as pulumi from "@pulumi/pulumi";
import { EnvVar, renderEnvShell } from "./app-env";

/** Where the app's database lives, as the boot script sees it. */
export type DatabaseSource =
  /** Step 1: PostgreSQL on the same box, its password generated on the box and never leaving it. */
  | { kind: "local" }
  /** Step 2 on: RDS, credentials read from the Secrets Manager secret RDS manages. */
  | {
      kind: "rds";
      host: pulumi.Input<string>;
      port: pulumi.Input<number>;
      dbName: string;
      secretArn: pulumi.Input<string>;
    };

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
 * *every time the service starts*: a restart picks up a new release, and no secret is ever written into user data,
 * which anyone with `ec2:DescribeInstanceAttribute` can read. A rotated database password needs no restart: the app
 * reads it from its secret (DATABASE_SECRET, the ARN) when it opens a connection and when the server refuses one.
 */
export function appUserData(args: AppUserDataArgs): pulumi.Output<string> {
  const inputs: { [K in keyof ResolvedInputs]: pulumi.Input<ResolvedInputs[K]> } = {
    releaseParameter: args.releaseParameterName,
    release: args.releaseUri ?? "",
    agentConfigParameter: args.observability?.agentConfigParameterName ?? "",
    // pulumi.output unwraps every Input inside the variables (hosts, ARNs) into plain strings.
    env: pulumi.output(args.environment) as pulumi.Output<EnvVar<string>[]>,
  };
  return pulumi.output(inputs).apply((resolved) => {
    const script = renderScript({ ...args, ...(resolved as ResolvedInputs) });
    const size = Buffer.byteLength(script, "utf8");
    if (size > USER_DATA_LIMIT_BYTES)
      throw new Error(`user data is ${size} bytes; EC2 accepts at most ${USER_DATA_LIMIT_BYTES}`);
    return script;
  });
}

type Resolved = Omit<AppUserDataArgs, "environment"> & ResolvedInputs;

interface ResolvedInputs {
  releaseParameter: string;
  release: string;
  agentConfigParameter: string;
  env: EnvVar<string>[];
}

// In the templates below, a `\` that ends a line is JavaScript's line continuation: the script gets one line there,
// as bash would read it too.
function renderScript(a: Resolved): string {
  const local = a.database.kind === "local";
  const env = renderEnvShell(a.env);
  return `#!/bin/bash
# scale-ladder app server boot script (Amazon Linux 2023). Contains no secrets: they are read at service start.
${a.release ? `# release: ${a.release}\n` : ""}set -euo pipefail
exec > >(tee -a /var/log/shop-boot.log) 2>&1
${BOOT_FUNCTIONS}
retry dnf install -y nodejs22 jq tar gzip${local ? " postgresql16-server postgresql16" : ""}
# AL2023 installs versioned binaries (node-22); make sure a plain "node" resolves to it.
command -v node >/dev/null || ln -sf "$(command -v node-22)" /usr/local/bin/node
useradd --system --home-dir /opt/shop --shell /sbin/nologin shop || true
install -d -o root -g root -m 0755 /opt/shop /opt/shop/bin /opt/shop/releases /etc/shop
${
  local
    ? localPostgres()
    : `retry curl -fsS --connect-timeout 10 --max-time 60 \
-o /etc/shop/rds-ca.pem ${RDS_CA_BUNDLE_URL}`
}

cat > /opt/shop/bin/imds <<'EOF'
#!/bin/bash
# One instance metadata item (placement/region, instance-id). IMDSv2 only: a session token first, then the item.
set -euo pipefail
TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
curl -fsS -H "X-aws-ec2-metadata-token: $TOKEN" "http://169.254.169.254/latest/meta-data/$1"
EOF

cat > /opt/shop/bin/fetch-release <<'EOF'
#!/bin/bash
# Unpacks the release the SSM parameter names (once per release) and points /opt/shop/current at it.
set -euo pipefail
REGION=$(/opt/shop/bin/imds placement/region)
URI=$(aws ssm get-parameter --region "$REGION" --name '${a.releaseParameter}' --query Parameter.Value --output text)
DIR=/opt/shop/releases/$(basename "$URI" .tgz)
if [ ! -d "$DIR" ]; then
  TMP=$(mktemp -d /opt/shop/releases/.incoming.XXXXXX)
  # Whatever fails below, the half-unpacked directory goes: only a whole release is ever renamed into place.
  trap 'rm -rf "$TMP"' EXIT
  aws s3 cp --region "$REGION" --only-show-errors "$URI" "$TMP/release.tgz"
  # One command a line: set -e ignores a failure inside "a && b", so "tar ... && rm ..." went on after a bad tar.
  tar -xzf "$TMP/release.tgz" -C "$TMP"
  rm "$TMP/release.tgz"
  # The service runs as shop: mktemp made the directory 0700, and an archive's "./" entry may set any mode.
  chmod -R a+rX "$TMP"
  mv "$TMP" "$DIR"
fi
ln -sfn "$DIR" /opt/shop/current
EOF

cat > /opt/shop/bin/render-env <<'EOF'
#!/bin/bash
# Writes the service environment to a root-owned tmpfs file readable by the service only.
set -euo pipefail
umask 077
# /run is empty after every boot: make the directory before anything below writes into it.
install -d -m 0700 /run/shop
REGION=$(/opt/shop/bin/imds placement/region)
# The process's name in its answers' x-shop-process header: the instance id, never its private address.
INSTANCE_ID=$(/opt/shop/bin/imds instance-id)
# A secret is read in the region its ARN names: a secondary region is given its own replicas (step 11).
secret() { aws secretsmanager get-secret-value --region "$(cut -d: -f4 <<<"$1")" --secret-id "$1" \
--query SecretString --output text; }
${env.prelude}
{
${env.echoes.map((line) => `  ${line}`).join("\n")}
} > /run/shop/env
EOF
chmod 0755 /opt/shop/bin/*

cat > /etc/systemd/system/shop.service <<'EOF'
[Unit]
Description=scale-ladder shop ${a.mode ?? "server"}
Wants=network-online.target${local ? " postgresql.service" : ""}
After=network-online.target${local ? " postgresql.service" : ""}
# Never give up: at first boot the instance's IAM role may not have propagated yet, and a fleet's health check (or
# nobody, on the single server) is all that would notice a service that stopped trying. "0" disables rate limiting:
# https://www.freedesktop.org/software/systemd/man/systemd.unit.html#StartLimitIntervalSec=interval (2026-12-01)
StartLimitIntervalSec=0

[Service]
User=shop
Group=shop
# "+" runs the preparation as root: it reads secrets the shop user cannot.
ExecStartPre=+/opt/shop/bin/fetch-release
ExecStartPre=+/opt/shop/bin/render-env
# "-": systemd loads environment files for every process of the unit, ExecStartPre= included, and /run is empty
# at boot, so without it the pre-start that writes the file never runs (Result: resources). The file is read again
# just before ExecStart=, once written: "read shortly before the process is executed", "-": "if the file does not
# exist, it will not be read". https://www.freedesktop.org/software/systemd/man/systemd.exec.html#EnvironmentFile=
# (2026-12-01; the boot test shows both on systemd 252.)
EnvironmentFile=-/run/shop/env
# "-": the release directory appears during ExecStartPre, on the very first start.
WorkingDirectory=-/opt/shop/current
ExecStart=/usr/bin/env node /opt/shop/current/${a.mode === "worker" ? "worker" : "server"}.js
Restart=always
# With no start limit, a service that cannot start (AWS refusing its calls) retries every 5 s, not in a tight loop.
RestartSec=5
KillSignal=SIGTERM${
    a.observability ? `\nStandardOutput=append:/var/log/shop/${a.mode ?? "server"}.log\nStandardError=inherit` : ""
  }
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
systemctl daemon-reload
# A start that fails (IAM not propagated yet, ...) is systemd's to retry: the boot goes on to the rest.
systemctl enable --now shop.service || echo "boot: shop.service did not start yet; systemd keeps restarting it"${
    a.observability ? `\noptional "CloudWatch agent" /opt/shop/bin/setup-agent` : ""
  }
`;
}

/**
 * Step 10: the directory of the service's log file (the unit appends to it, so it must exist before the service
 * starts) and its rotation, and the agent that ships it, configured from SSM. The agent is optional: it is installed
 * after the app has started, by its own script, whose failure the boot script logs and goes past.
 */
function cloudWatchAgent(a: Resolved): string {
  return `install -d -m 0755 /var/log/shop
cat > /etc/logrotate.d/shop <<'EOF'
/var/log/shop/*.log {
  daily
  rotate 3
  compress
  missingok
  copytruncate
}
EOF
cat > /opt/shop/bin/setup-agent <<'EOF'
#!/bin/bash
# The CloudWatch agent, configured from SSM. Optional: the boot script runs it after the app and logs its failure.
set -euo pipefail
dnf install -y amazon-cloudwatch-agent
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
-c 'ssm:${a.agentConfigParameter}'
EOF
chmod 0755 /opt/shop/bin/setup-agent`;
}

/** Amazon RDS's certificate bundle for all commercial regions (docs: "Using SSL/TLS to encrypt a connection"). */
const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/**
 * Shell functions of the boot script.
 *
 * `retry`: the first network calls can come before the instance reaches anything. At steps 1–2 the server sits in
 * a public subnet without an auto-assigned public IP, and has no route out until its Elastic IP is associated, which
 * Pulumi does only after the instance is running. `curl --retry` does not retry a refused connection (only timeouts
 * and transient HTTP errors: https://everything.curl.dev/usingcurl/downloads/retry, 2026-12-01), and dnf gives up
 * after its own short retries, so each first call is retried here: every 10 s for up to 10 minutes, then the
 * script fails, loudly, in its log.
 *
 * `optional NAME CMD...`: runs a part the app does not need in order to serve (the CloudWatch agent). CMD is a
 * script of its own, with its own `set -e` (inside a function called from an `||` list, bash would ignore it),
 * and its failure is logged instead of stopping the boot.
 */
const BOOT_FUNCTIONS = `retry() {
  local attempt
  for attempt in $(seq 1 60); do
    "$@" && return 0
    [ "$attempt" -eq 60 ] && break
    echo "boot: $* failed (attempt $attempt of 60); retrying in 10 s"
    sleep 10
  done
  echo "boot: gave up on $* after 60 attempts"
  return 1
}
optional() {
  local name=$1 rc=0
  shift
  "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then echo "boot: optional step \\"$name\\" failed (exit $rc); the app runs without it"; fi
}
`;

function localPostgres(): string {
  return `# Step 1: the database shares the box. Its password is made here and never leaves the instance.
if [ ! -f /var/lib/pgsql/data/PG_VERSION ]; then
  postgresql-setup --initdb
  sed -ri 's/^(host\\s+all\\s+all\\s+(127\\.0\\.0\\.1\\/32|::1\\/128)\\s+)\\S+/\\1scram-sha-256/' \
/var/lib/pgsql/data/pg_hba.conf
fi
systemctl enable --now postgresql
if [ ! -f /etc/shop/local-db-password ]; then
  ( umask 077; openssl rand -hex 24 > /etc/shop/local-db-password )
  PW=$(cat /etc/shop/local-db-password)
  runuser -u postgres -- psql -v ON_ERROR_STOP=1 -c "CREATE ROLE shop LOGIN PASSWORD '$PW'" \
-c "CREATE DATABASE shop OWNER shop"
fi`;
}
