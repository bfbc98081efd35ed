// Parses PowerShell scripts with a real PowerShell grammar (tree-sitter-powershell) and
// fails on any ERROR or MISSING node. No Windows host exists in CI: this is the check that
// every script labctl generates for Hyper-V is at least valid PowerShell syntax.
//
// Usage: node parse.mjs <node_modules dir> <file>...
//   file.ps1   one script (several "# labctl" scripts one after another are one script too)
//   file.json  `labctl --json plan` output: every host's "powershell" list, one script each
// Prints one line per script and per syntax error; exits 1 when any script has an error.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error('usage: node parse.mjs <node_modules dir> <file>...');
  process.exit(2);
}
const load = async (path) => (await import(pathToFileURL(join(modules, path)).href)).default;
const Parser = await load('tree-sitter/index.js');
const PowerShell = await load('tree-sitter-powershell/bindings/node/index.js');
const parser = new Parser();
parser.setLanguage(PowerShell);

// Every ERROR and MISSING node, as "line:column: what".
function syntaxErrors(text) {
  // A callback input: a plain string longer than the binding's buffer is refused.
  const tree = parser.parse((index) => (index < text.length ? text.slice(index, index + 8192) : null));
  const errors = [];
  const cursor = tree.walk();
  for (let more = true; more; ) {
    const node = cursor.currentNode;
    if (node.type === 'ERROR' || node.isMissing) {
      const where = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      const what = node.isMissing ? `MISSING ${node.type}` : `ERROR at '${node.text.slice(0, 40)}'`;
      errors.push(`${where}: ${what}`);
    }
    if (node.hasError && cursor.gotoFirstChild()) {
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        more = false;
        break;
      }
    }
  }
  return errors;
}

function scriptsOf(file) {
  const text = readFileSync(file, 'utf8');
  if (!file.endsWith('.json')) {
    return [{ name: file, text }];
  }
  const scripts = [];
  for (const host of JSON.parse(text).hosts ?? []) {
    (host.powershell ?? []).forEach((script, i) => {
      const header = script.split('\n', 1)[0];
      scripts.push({ name: `${file} #${i + 1} (${header})`, text: script });
    });
  }
  return scripts;
}

let failed = 0;
let parsed = 0;
for (const file of files) {
  for (const { name, text } of scriptsOf(file)) {
    parsed += 1;
    const errors = syntaxErrors(text);
    if (errors.length > 0) {
      failed += 1;
      console.log(`FAIL ${name}`);
      errors.forEach((e) => console.log(`  ${e}`));
    }
  }
}
console.log(`parse.mjs: ${parsed} scripts parsed, ${failed} with syntax errors`);
process.exit(failed > 0 ? 1 : 0);
