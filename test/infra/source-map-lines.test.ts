/**
 * scripts/source-map-lines.cjs: the line-grained source maps of scripts/run.mjs's bundles. Checked against Node's own
 * source-map reader (node:module SourceMap) on the program's real bundle: every position of the generated code maps
 * to the same file and line as with esbuild's token-grained map.
 */
import { type BuildOptions, buildSync } from "esbuild";
import { SourceMap, type SourceMapPayload } from "node:module";
import path from "node:path";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS helpers of run.mjs, without types
const { decodeMappings, encodeMappings, lineMappings } = require("../../scripts/source-map-lines.cjs") as {
  decodeMappings(mappings: string): number[][][];
  encodeMappings(lines: number[][][]): string;
  lineMappings(mappings: string): string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
const { bundleOptions } = require("../../scripts/run-bundle.cjs") as {
  bundleOptions(entry: string): BuildOptions & { outfile: string };
};

const ROOT = path.resolve(__dirname, "../..");

/** The program's bundle as run.mjs builds it (without its plugin), with esbuild's own (token-grained) map. */
function programBundle(): { code: string; map: SourceMapPayload } {
  const options = bundleOptions(path.join(ROOT, "stacks", "index.ts"));
  const result = buildSync(options);
  const text = (p: string) => result.outputFiles!.find((f) => f.path === p)!.text;
  return { code: text(options.outfile), map: JSON.parse(text(`${options.outfile}.map`)) };
}

const segments = (mappings: string) => decodeMappings(mappings).reduce((n, line) => n + line.length, 0);

describe("line-grained source maps", () => {
  const { code, map } = programBundle();
  const lines = lineMappings(map.mappings);

  it("map every position of the program's bundle to the same file and line as esbuild's map", () => {
    const full = new SourceMap(map);
    const coarse = new SourceMap({ ...map, mappings: lines });
    const differ: string[] = [];
    let positions = 0;
    code.split("\n").forEach((text, line) => {
      for (let column = 0; column <= text.length; column++) {
        const a = full.findEntry(line, column) as { originalSource?: string; originalLine?: number };
        const b = coarse.findEntry(line, column) as { originalSource?: string; originalLine?: number };
        positions++;
        if (a.originalSource !== b.originalSource || a.originalLine !== b.originalLine)
          differ.push(
            `${line}:${column} ${a.originalSource}:${a.originalLine} vs ${b.originalSource}:${b.originalLine}`,
          );
      }
    });
    expect(differ.slice(0, 5)).toEqual([]);
    expect(positions).toBeGreaterThan(100_000);
  });

  it("keep well under half the segments (what a stack trace's first use of the map parses and sorts)", () => {
    expect(segments(lines) / segments(map.mappings)).toBeLessThan(0.5);
  });

  it("decode and encode esbuild's mappings without a change", () => {
    expect(encodeMappings(decodeMappings(map.mappings))).toBe(map.mappings);
  });

  it("keep a segment where the original line changes, and where code of no source starts", () => {
    // Line 0: two segments on original line 0, then one on line 1. Line 1: mapped, unmapped, unmapped, mapped.
    const abs = [
      [
        [0, 0, 0, 0],
        [4, 0, 0, 4],
        [9, 0, 1, 0],
      ],
      [[0, 0, 1, 2], [5], [7], [9, 0, 1, 6]],
    ];
    expect(decodeMappings(lineMappings(encodeMappings(abs)))).toEqual([
      [
        [0, 0, 0, 0],
        [9, 0, 1, 0],
      ],
      [[0, 0, 1, 2], [5], [9, 0, 1, 6]],
    ]);
  });

  it("name the bad character of a malformed map", () => {
    expect(() => lineMappings("AAAA,A!AA")).toThrow('source map: "!" is not a base64 VLQ digit');
    expect(() => lineMappings("AAg")).toThrow('source map: segment "AAg" ends inside a number');
  });
});
