/**
 * The CloudWatch agent's configuration file: the part of it this project writes, as types, and a validator that
 * checks a whole file against the agent's own JSON schema.
 *
 * `cloudwatch-agent-schema.json` beside this file is `translator/config/schema.json` of aws/amazon-cloudwatch-agent,
 * copied verbatim (68 kB; not trimmed, so that it can be compared with upstream byte for byte):
 *   https://github.com/aws/amazon-cloudwatch-agent/blob/ab55b8daa204e95c42c0267ee5aa49ec3b3a7317/translator/config/schema.json
 *   (repository HEAD ab55b8d of 2026-08-07; the file last changed in 43f25261 of 2026-07-21; read 2026-12-01).
 * The agent validates every configuration against it before it starts (`amazon-cloudwatch-agent-ctl -a fetch-config`
 * exits non-zero with, for example, `/logs must NOT have additional properties`), so a file this validator refuses
 * is a file the agent refuses.
 *
 * The schema says draft-04; ajv 8 speaks draft-07. The file uses no keyword whose meaning changed between the two
 * (no boolean exclusiveMinimum/Maximum, no `id`), so it is compiled as draft-07 with its `$schema` line dropped.
 * `strict: false` because it carries a non-standard `descriptions` keyword.
 */
import Ajv, { ErrorObject } from "ajv";
import agentSchema from "./cloudwatch-agent-schema.json";

/** `agent` section: how the agent itself runs. */
export interface AgentSection {
  /** Seconds between two collections of every metric (1–172800). */
  metrics_collection_interval?: number;
  /** Linux user the agent runs as: `root`, `cwagent` or another user. */
  run_as_user?: string;
  region?: string;
  debug?: boolean;
}

/** `metrics` section: host metrics published with PutMetricData. */
export interface MetricsSection {
  namespace?: string;
  /** Only the fixed placeholders the agent knows: `${aws:AutoScalingGroupName}`, `${aws:InstanceId}`, … */
  append_dimensions?: Partial<Record<"AutoScalingGroupName" | "ImageId" | "InstanceId" | "InstanceType", string>>;
  aggregation_dimensions?: string[][];
  metrics_collected: {
    mem?: { measurement: string[]; metrics_collection_interval?: number };
    disk?: { measurement: string[]; resources?: string[]; drop_device?: boolean; ignore_file_system_types?: string[] };
    cpu?: { measurement: string[]; totalcpu?: boolean; resources?: string[] };
  };
  force_flush_interval?: number;
}

/** One log file the agent tails. */
export interface CollectedFile {
  file_path: string;
  log_group_name?: string;
  /** `{instance_id}`, `{hostname}`, `{ip_address}` are placeholders the agent fills in. */
  log_stream_name?: string;
  retention_in_days?: number;
  timezone?: "Local" | "LOCAL" | "UTC";
}

/**
 * `logs` section. Its own keys are closed (`additionalProperties: false` in the schema): there is no section-wide
 * `log_group_name`. Records of the embedded-metric-format listener (`metrics_collected.emf`) go to the log group
 * each record names in its `_aws.LogGroupName` (aws-embedded-metrics sets it from `AWS_EMF_LOG_GROUP_NAME`), else
 * to `emf/logs/default`.
 */
export interface LogsSection {
  logs_collected?: { files?: { collect_list: CollectedFile[] } };
  metrics_collected?: { emf?: { service_address?: string } };
  /** Default stream of the section (the EMF listener's included); the agent's default on EC2 is `{instance_id}`. */
  log_stream_name?: string;
  /** Seconds between two PutLogEvents batches (the agent's default: 5). */
  force_flush_interval?: number;
}

/** The configuration file, as far as this project writes it. */
export interface AgentConfig {
  agent?: AgentSection;
  metrics?: MetricsSection;
  logs?: LogsSection;
}

let compiled: ReturnType<Ajv["compile"]> | undefined;

/** Problems the agent's schema finds in `config`, as `<json pointer> <message>`; empty when it is valid. */
export function validateAgentConfig(config: unknown): string[] {
  if (!compiled) {
    const { $schema: _draft04, ...schema } = agentSchema as Record<string, unknown>;
    void _draft04;
    compiled = new Ajv({ strict: false, allErrors: true }).compile(schema);
  }
  if (compiled(config)) return [];
  return (compiled.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || "/";
  const extra =
    e.keyword === "additionalProperties"
      ? ` (${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)})`
      : "";
  return `${where} ${e.message}${extra}`;
}
