/**
 * Entry point the Pulumi CLI runs: `pulumi preview --policy-pack policies` (see docs/policies.md).
 * Only this file starts the policy server; everything else is importable by tests.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ARGS, PACK_NAME } from "./pack";

new PolicyPack(PACK_NAME, PACK_ARGS);
