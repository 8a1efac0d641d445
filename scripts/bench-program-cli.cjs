// One run of the program the way `pulumi preview` / `pulumi up` run it, with the graph library's mocks in place of
// the engine: this process sets the mocks, then hands over to the Pulumi CLI's own entry point,
// `@pulumi/pulumi/cmd/run` (index.js, then run.js), with the arguments the nodejs language host passes it. That
// code changes to the program directory, registers ts-node if the language host said the program is TypeScript
// (PULUMI_NODEJS_TYPESCRIPT; this project's Pulumi.yaml says it is not: stacks/main.cjs is its entry point), and
// requires the program. The parent (scripts/bench-program.mjs) derives the program directory, the
// entry point and the environment from Pulumi.yaml as the engine and the language host do, and times whole
// processes of this file.
// Usage: node scripts/bench-program-cli.cjs <mocks bundle> <program dir> <entry> [dump file]
// The dump file, when given, receives { resources: [{ type, name }], outputs, modules }: the stack's outputs as
// registered, and the files of every CommonJS module the process loaded.
"use strict";
const fs = require("node:fs");

const [mocksBundle, pwd, entry, dumpFile] = process.argv.slice(2);
const pulumi = require("@pulumi/pulumi");
const { resourceState, invokeResult } = require(mocksBundle);

const registered = [];
pulumi.runtime.setMocks(
  {
    newResource(args) {
      const { id, state } = resourceState(args.type, args.name, args.inputs, args.provider);
      registered.push({ type: args.type, name: args.name });
      return { id: args.custom ? id : undefined, state };
    },
    call(args) {
      return invokeResult(args.token, args.inputs, args.provider);
    },
  },
  process.env.PULUMI_NODEJS_PROJECT,
  process.env.PULUMI_NODEJS_STACK,
  false,
);
// The engine answers the exit handshake; the mock monitor has no such call.
const monitor = pulumi.runtime.getMonitor();
monitor.signalAndWaitForShutdown = (_req, callback) => callback(null, {});
// The stack's outputs, as the engine would receive them.
let outputs;
// With a dump file: each resource's source position and stack trace, as the engine would receive them.
const positions = [];
if (dumpFile) {
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const frame = (p) => p && `${p.getUri()}:${p.getLine()}:${p.getColumn()}`;
    positions.push({
      type: req.getType(),
      name: req.getName(),
      sourcePosition: frame(req.getSourceposition()),
      stackTrace: (req.getStacktrace()?.getFramesList() ?? []).map((f) => frame(f.getPc()) ?? null),
    });
    return register(req, callback);
  };
}
const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
monitor.registerResourceOutputs = (req, callback) => {
  if (req.getUrn().includes("::pulumi:pulumi:Stack::")) outputs = req.getOutputs()?.toJavaScript();
  registerOutputs(req, callback);
};

process.on("exit", (code) => {
  if (dumpFile) {
    const modules = Object.keys(require.cache);
    fs.writeFileSync(dumpFile, JSON.stringify({ resources: registered, outputs, modules, positions }, null, 1));
  }
  const cpu = process.cpuUsage();
  if (code === 0)
    process.stdout.write(
      `${JSON.stringify({ resources: registered.length, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
    );
});
// `--monitor mock` is the address setMocks put in place: the runtime keeps the mock monitor.
process.argv = [
  process.argv[0],
  require.resolve("@pulumi/pulumi/cmd/run"),
  ...["--monitor", "mock", "--project", process.env.PULUMI_NODEJS_PROJECT, "--stack", process.env.PULUMI_NODEJS_STACK],
  ...["--root-directory", process.env.PULUMI_NODEJS_ROOT_DIRECTORY, "--pwd", pwd, entry],
];
require("@pulumi/pulumi/cmd/run");
