/**
 * Generated sections inside hand-written Markdown: everything between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` belongs to `npm run docs`; the rest to people.
 */

const OPEN = /<!-- generated:([a-z0-9-]+)(?: [^>]*)? -->/g;

export const NOTE = "do not edit: npm run docs regenerates this from the program";

/** Names of the generated sections of a document, in order. */
export function sectionNames(doc: string): string[] {
  return [...doc.matchAll(OPEN)].map((m) => m[1]);
}

/** The body of one section, or undefined. */
export function sectionBody(doc: string, name: string): string | undefined {
  const open = new RegExp(`<!-- generated:${name}(?: [^>]*)? -->\\n`);
  const m = open.exec(doc);
  if (!m) return undefined;
  const start = m.index + m[0].length;
  const end = doc.indexOf(`<!-- /generated:${name} -->`, start);
  return end < 0 ? undefined : doc.slice(start, end);
}

/**
 * The document with the body of section `name` replaced. Throws, naming the file, when the markers are missing or
 * unbalanced: a generated section is never appended somewhere a person did not put it.
 */
export function replaceSection(doc: string, name: string, body: string, file: string): string {
  const open = new RegExp(`<!-- generated:${name}(?: [^>]*)? -->\\n?`);
  const m = open.exec(doc);
  const close = `<!-- /generated:${name} -->`;
  const end = m ? doc.indexOf(close, m.index + m[0].length) : -1;
  if (!m || end < 0)
    throw new Error(
      `${file}: no "<!-- generated:${name} -->" … "${close}" markers; add them where the section belongs`,
    );
  const text = body.endsWith("\n") ? body : `${body}\n`;
  return `${doc.slice(0, m.index)}<!-- generated:${name} (${NOTE}) -->\n${text}${doc.slice(end)}`;
}

/** Escapes a value for a Markdown table cell. */
export const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
