/**
 * The app's route table as Fastify prints it (`printRoutes({ includeHooks: true, commonPrefix: false })`), read
 * back as data: each route with the names of its hooks, for tests that check which routes run which hooks.
 */

/** Each route ("GET /api/cart") with its hooks' names, read from Fastify's printed route tree. */
export function routeHooks(tree: string): Map<string, string[]> {
  const routes = new Map<string, string[]>();
  const parents: Array<{ indent: number; path: string }> = [];
  let current: string[] | undefined;
  for (const line of tree.split("\n")) {
    const indent = line.search(/[^│├└─\s]/u);
    const text = line.slice(indent);
    const hook = /^• \((\w+)\) (\[.*\])$/u.exec(text);
    if (hook && current) current.push(...(JSON.parse(hook[2]) as string[]).map((name) => `${hook[1]}:${name}`));
    const node = /^(.*) \(([A-Z]+)\)$/u.exec(text);
    if (hook || !node) continue;
    while (parents.length > 0 && parents[parents.length - 1].indent >= indent) parents.pop();
    const path = (parents[parents.length - 1]?.path ?? "") + node[1];
    parents.push({ indent, path });
    current = [];
    routes.set(`${node[2]} ${path.replace(/^\/?/, "/")}`, current);
  }
  return routes;
}
