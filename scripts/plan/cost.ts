/**
 * Estimated monthly cost of a mocked graph, by component: the graph's resources handed to the one pricer
 * (`lib/pricing/estimate.ts`, which the policy pack's `cost-estimate` policy uses too), each with its registered
 * inputs, its top-level component and its region.
 */
import type { Registration } from "../../lib/graph/harness";
import { CostEstimate, PricedResource, estimate } from "../../lib/pricing/estimate";
import { GraphIndex, isResourceLike, shortType } from "./graph";

export type { ComponentCost, CostEstimate, CostLine } from "../../lib/pricing/estimate";

/** The estimate for a whole graph. */
export function estimateCost(index: GraphIndex): CostEstimate {
  const views = new Map<string, PricedResource>();
  const view = (r: Registration): PricedResource => {
    let v = views.get(r.urn);
    if (!v) {
      const props = index.inputs(r);
      v = {
        type: r.type,
        name: r.name,
        props,
        // Under the mocks a reference holds the target's mocked id or output (`{ id }` for a launch template).
        target: (prop, types) => {
          const t = index.resolve(props[prop]?.id ?? props[prop], [...types]);
          return t && view(t);
        },
      };
      views.set(r.urn, v);
    }
    return v;
  };
  return estimate(
    index.resources.filter(isResourceLike).map((r) => {
      const top = index.topComponentOf(r);
      return {
        resource: view(r),
        component: top && { key: top.urn, name: top.name, type: shortType(top.type) },
        region: () => (top ? index.regionOf(top) : index.regionOf(r)),
      };
    }),
  );
}
