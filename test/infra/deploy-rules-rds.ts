/**
 * Deploy-time rules for RDS and Aurora that read the compatibility tables of `components/facts/` (instance classes
 * by feature, engine versions): what `pulumi preview` accepts and `pulumi up` is refused, or what a later
 * `pulumi up` would undo. Listed in DEPLOY_RULES (deploy-rules.ts); each has a wrong program in deploy-rules.test.ts.
 */
import {
  AURORA_GLOBAL_ALLOWED,
  auroraGlobalDatabaseAccepts,
  multiAzClusterAccepts,
  performanceInsightsSupported,
} from "../../components/facts/rds-instance-classes";
import { engineVersionOffered } from "../../components/facts/rds-engine-versions";
import type { DeployRule, View } from "./deploy-rules";
import type { Registration } from "../../lib/graph/harness";
import { collect } from "./rule-collect";
import { T } from "../../lib/graph/resource-types";

const RDS = T.rds;
const CLUSTER = T.cluster;
const CLUSTER_INSTANCE = T.clusterInstance;
const GLOBAL = T.globalCluster;

/** The engine of an RDS instance, or of the source it replicates. */
function engineOf(v: View, r: Registration): string | undefined {
  const i = v.inputs(r);
  if (i.engine !== undefined) return String(i.engine);
  const source = v.deps(r, "replicateSourceDb", RDS)[0];
  return source ? engineOf(v, source) : undefined;
}

/** The clusters of a global database: the one it was created from, and those that name it. */
const membersOf = (v: View, g: Registration) => [
  ...v.deps(g, "sourceDbClusterIdentifier", CLUSTER),
  ...v.referrers(g, [CLUSTER], "globalClusterIdentifier"),
];

export const RDS_DEPLOY_RULES: DeployRule[] = [
  {
    name: "rds-instance-classes",
    rule:
      "Every instance of an Aurora global database's member clusters is memory-optimized; Performance Insights is " +
      "on only where the engine offers it on that class; a Multi-AZ DB cluster uses a class it is offered on.",
    source:
      "components/facts/rds-instance-classes.ts (2026-12-01): Aurora User Guide, 'Configuration requirements of an " +
      "Amazon Aurora global database' and 'Supported DB engines for DB instance classes'; RDS and Aurora User " +
      "Guides, 'DB engine, Region, and instance class support for Database Insights'; RDS User Guide, 'Instance " +
      "class availability for Multi-AZ DB clusters'",
    check: (v) =>
      collect((problem, count) => {
        for (const g of v.ofType(GLOBAL)) {
          for (const member of membersOf(v, g)) {
            for (const inst of v.referrers(member, [CLUSTER_INSTANCE], "clusterIdentifier")) {
              count();
              const cls = String(v.inputs(inst).instanceClass);
              if (!auroraGlobalDatabaseAccepts(cls)) {
                problem(`${inst.name}: ${cls} in global database ${g.name}; it needs ${AURORA_GLOBAL_ALLOWED}`);
              }
            }
          }
        }
        for (const r of [...v.ofType(RDS), ...v.ofType(CLUSTER_INSTANCE)]) {
          const i = v.inputs(r);
          if (i.performanceInsightsEnabled !== true) continue;
          count();
          const engine = engineOf(v, r);
          if (engine !== undefined && !performanceInsightsSupported(engine, String(i.instanceClass))) {
            problem(`${r.name}: Performance Insights is not offered for ${engine} on ${i.instanceClass}`);
          }
        }
        for (const c of v.ofType(CLUSTER)) {
          const i = v.inputs(c);
          if (i.dbClusterInstanceClass === undefined) continue;
          count();
          if (!multiAzClusterAccepts(String(i.dbClusterInstanceClass))) {
            problem(`${c.name}: a Multi-AZ DB cluster is not offered on ${i.dbClusterInstanceClass}`);
          }
        }
      }),
  },
  {
    name: "rds-engine-versions",
    rule:
      "Engine versions are ones AWS offers; members of a global database that name a version name the same one; a " +
      "version pinned below the major (16.6) with auto minor upgrades on is ignored after creation, or the next " +
      "`pulumi up` asks for a downgrade.",
    source:
      "components/facts/rds-engine-versions.ts (2026-12-01): RDS User Guide, supported PostgreSQL major versions; " +
      "Aurora User Guide, 'Getting a list of available versions in your AWS Region'; @pulumi/aws " +
      "rds/globalCluster.d.ts 'Upgrading Engine Versions'; terraform-provider-aws compareActualEngineVersion; RDS " +
      "error 'Cannot upgrade aurora-postgresql from 16.8 to 16.6'",
    check: (v) =>
      collect((problem, count) => {
        const pinnedMinor = (version: unknown) => typeof version === "string" && version.split(".").length > 1;
        for (const r of [...v.ofType(RDS), ...v.ofType(CLUSTER)]) {
          const i = v.inputs(r);
          if (i.engine === undefined || typeof i.engineVersion !== "string") continue;
          count();
          if (engineVersionOffered(String(i.engine), i.engineVersion) === false) {
            problem(`${r.name}: ${i.engine} ${i.engineVersion} is not a version AWS offers`);
          }
        }
        const autoMinor = (inputs: Record<string, any>) => inputs.autoMinorVersionUpgrade !== false;
        for (const r of v.ofType(RDS)) {
          const i = v.inputs(r);
          if (i.replicateSourceDb !== undefined || !pinnedMinor(i.engineVersion) || !autoMinor(i)) continue;
          if (!r.ignoreChanges.includes("engineVersion")) {
            problem(
              `${r.name}: engineVersion ${i.engineVersion} pins a minor version while AWS upgrades minors; ` +
                "give the major only or ignore engineVersion",
            );
          }
        }
        for (const c of v.ofType(CLUSTER)) {
          const instances = v.referrers(c, [CLUSTER_INSTANCE], "clusterIdentifier");
          const upgraded = instances.some((x) => autoMinor(v.inputs(x)));
          if (!pinnedMinor(v.inputs(c).engineVersion) || !upgraded) continue;
          for (const r of [c, ...instances]) {
            if (!r.ignoreChanges.includes("engineVersion")) {
              problem(
                `${r.name}: engineVersion is pinned to a minor version while auto minor upgrades are on; ` +
                  "ignore engineVersion after creation",
              );
            }
          }
        }
        for (const g of v.ofType(GLOBAL)) {
          count();
          const named = membersOf(v, g).map((m) => v.inputs(m).engineVersion);
          const versions = new Set(named.filter((x): x is string => typeof x === "string"));
          if (versions.size > 1) {
            problem(
              `${g.name}: members name different engine versions ${[...versions].join(", ")}; ` +
                "a secondary must run exactly the primary's",
            );
          }
        }
      }),
  },
];
