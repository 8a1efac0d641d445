// Deploying twice (a second up; a second stack beside it), one variant per file so jest runs them in parallel.
import { DEPLOY_TWICE_VARIANTS, describeDeployTwice } from "./deploy-twice-suite";

describeDeployTwice(DEPLOY_TWICE_VARIANTS.devDomain);
