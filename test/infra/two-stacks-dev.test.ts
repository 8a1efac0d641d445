// Two stacks in one account and region, one variant per file so jest runs them in parallel (two-stacks-suite.ts).
import { TWO_STACKS_VARIANTS, describeTwoStacks } from "./two-stacks-suite";

describeTwoStacks(TWO_STACKS_VARIANTS.dev);
