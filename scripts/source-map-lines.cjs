// Line-grained source maps for the bundles scripts/run.mjs makes. esbuild maps every token; a stack trace needs only
// the line. The Pulumi CLI's run of the program maps the whole stack of every resource (the SDK's source position,
// through source-map-support), so every run parses the program bundle's map: 51 ms for esbuild's (with the sources'
// text) against 28 ms for this one (source-map 0.6, in a fresh process, Node 22; 2.6x fewer segments). This keeps, on
// each generated line, only the segments where the original file or line changes: a frame maps to the same file and
// line as before, and its column is that of the first token of the original line's code on the generated line.
// Format: https://sourcemaps.info/spec.html (mappings: lines split by ";", segments by ",", each segment 1, 4 or 5
// base64 VLQ fields; the generated column is relative within a line, the other fields across the whole string).
"use strict";

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** Decodes one segment's VLQ fields. */
function decodeSegment(text) {
  const fields = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) throw new Error(`source map: ${JSON.stringify(c)} is not a base64 VLQ digit`);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  if (shift !== 0) throw new Error(`source map: segment ${JSON.stringify(text)} ends inside a number`);
  return fields;
}

function encodeValue(n) {
  let vlq = n < 0 ? (-n << 1) | 1 : n << 1;
  let out = "";
  do {
    let digit = vlq & 31;
    vlq >>>= 5;
    if (vlq > 0) digit |= 32;
    out += BASE64[digit];
  } while (vlq > 0);
  return out;
}

/**
 * Decodes a `mappings` string into absolute segments: per generated line, a list of
 * [column] or [column, source, originalLine, originalColumn] or the same with a name index.
 */
function decodeMappings(mappings) {
  const state = [0, 0, 0, 0]; // source, original line, original column, name: relative across lines
  return mappings.split(";").map((line) => {
    let column = 0;
    return line
      .split(",")
      .filter(Boolean)
      .map((text) => {
        const f = decodeSegment(text);
        if (![1, 4, 5].includes(f.length)) throw new Error(`source map: a segment has ${f.length} fields`);
        column += f[0];
        const segment = [column];
        for (let i = 1; i < f.length; i++) segment.push((state[i - 1] += f[i]));
        return segment;
      });
  });
}

/** Encodes absolute segments (decodeMappings' shape) back into a `mappings` string. */
function encodeMappings(lines) {
  const state = [0, 0, 0, 0];
  return lines
    .map((segments) => {
      let column = 0;
      return segments
        .map((s) => {
          let out = encodeValue(s[0] - column);
          column = s[0];
          for (let i = 1; i < s.length; i++) {
            out += encodeValue(s[i] - state[i - 1]);
            state[i - 1] = s[i];
          }
          return out;
        })
        .join(",");
    })
    .join(";");
}

/**
 * The line-grained `mappings` of a token-grained one: on each generated line, the first segment and every segment
 * whose original file or line differs from the segment kept before it. A segment without an original position (one
 * field: generated code of no source) is kept where it starts a run of such code, so that this code is not
 * attributed to the line before it.
 */
function lineMappings(mappings) {
  const kept = decodeMappings(mappings).map((segments) => {
    const out = [];
    for (const s of segments) {
      const last = out[out.length - 1];
      const same = last && last.length > 1 && s.length > 1 && last[1] === s[1] && last[2] === s[2];
      const bothUnmapped = last && last.length === 1 && s.length === 1;
      if (!same && !bothUnmapped) out.push(s);
    }
    return out;
  });
  return encodeMappings(kept);
}

module.exports = { decodeMappings, encodeMappings, lineMappings };
