// Parses Mermaid blocks with Mermaid's own parser (mermaid.parse), headless under jsdom.
// Usage: node parse-mermaid.mjs <node_modules parent folder> <blocks.json>
//   blocks.json: [{"id": "docs/handbook/03-gitops.md:27", "code": "sequenceDiagram\n..."}]
// Prints one JSON line per block: {"id":…, "ok":true, "type":"sequence"} or {"id":…, "ok":false, "error":"…"}.
// Exit code: 0 when every block parses, 1 when one does not, 2 on a usage or setup error.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modulesRoot, blocksFile] = process.argv.slice(2);
if (!modulesRoot || !blocksFile) { console.error('usage: node parse-mermaid.mjs <folder with node_modules> <blocks.json>'); process.exit(2); }

const require = createRequire(join(resolve(modulesRoot), 'package.json'));
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>', { pretendToBeVisual: true });
// Mermaid (and DOMPurify, which it loads) expect a browser: give them jsdom's window.
for (const key of ['window', 'document', 'navigator', 'Element', 'HTMLElement', 'SVGElement', 'DOMParser', 'Node', 'getComputedStyle']) {
  if (!(key in globalThis) || key === 'window' || key === 'document') {
    Object.defineProperty(globalThis, key, { value: key === 'window' ? dom.window : dom.window[key], configurable: true, writable: true });
  }
}

const mermaidEntry = require.resolve('mermaid');
const mermaid = (await import(pathToFileURL(mermaidEntry).href)).default;
mermaid.initialize({ startOnLoad: false });

const blocks = JSON.parse(readFileSync(blocksFile, 'utf8'));
let failed = 0;
for (const block of blocks) {
  try {
    const result = await mermaid.parse(block.code);   // throws on a syntax error
    console.log(JSON.stringify({ id: block.id, ok: true, type: result && result.diagramType }));
  } catch (e) {
    failed++;
    console.log(JSON.stringify({ id: block.id, ok: false, error: String((e && e.message) || e).slice(0, 2000) }));
  }
}
process.exit(failed ? 1 : 0);
