#!/usr/bin/env node
// Validates Mermaid diagrams with Mermaid's own parser (`mermaid.parse`, the same code that renders them on GitHub
// and in the docs), in Node: jsdom supplies the DOM that Mermaid's sanitiser (DOMPurify) needs. No browser.
//
// Reads a JSON array of { name, source } on stdin; writes a JSON array of { name, ok, type?, error? } on stdout.
// Exit code 0 when every diagram parses, 1 when one does not, 2 when the parser itself cannot run.
// Usage: echo '[{"name":"x","source":"flowchart TB\n a --> b"}]' | node scripts/docs/mermaid-check.mjs
import { JSDOM } from "jsdom";

const read = async () => {
  let data = "";
  for await (const chunk of process.stdin) data += chunk;
  return JSON.parse(data);
};

try {
  const dom = new JSDOM("<!doctype html><html><body></body></html>");
  globalThis.window = dom.window;
  globalThis.document = dom.window.document;
  const { default: mermaid } = await import("mermaid");
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  const diagrams = await read();
  const results = [];
  for (const { name, source } of diagrams) {
    try {
      const parsed = await mermaid.parse(source);
      results.push({ name, ok: true, type: parsed.diagramType });
    } catch (e) {
      results.push({ name, ok: false, error: String(e?.message ?? e) });
    }
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  process.exitCode = results.every((r) => r.ok) ? 0 : 1;
} catch (e) {
  process.stderr.write(`mermaid-check: the parser could not run: ${e?.stack ?? e}\n`);
  process.exitCode = 2;
}
