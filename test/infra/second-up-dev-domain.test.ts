// The second-up simulation, one variant per file so jest runs them in parallel (see second-up-suite.ts).
import { SECOND_UP_VARIANTS, describeSecondUp } from "./second-up-suite";

describeSecondUp(SECOND_UP_VARIANTS.devDomain);
