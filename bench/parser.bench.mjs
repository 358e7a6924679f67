// Which Python parser runs in the sampler loop: @lezer/python or web-tree-sitter +
// tree-sitter-python, by speed and by error recovery, on what the default model really writes
// (the 400 bodies of bench/results/generate-cpu-1T-qs-code-diffusion-small-v2-syntax.json).
//   node bench/parser.bench.mjs      -> bench/results/parser.json + a table
//
// Speed: ms per full parse of header + body (the text the sampler checks each step), median and
// mean over all texts, after a warm-up pass. Error recovery: on the body cut as training/eval.py
// cuts it (a complete program, dedented), does the parser report an error exactly when Python's
// ast.parse does (the run's syntaxOk)? Errors missed let broken text through; false alarms would
// turn down good tokens.
import { readFileSync, writeFileSync } from 'node:fs';
import { parser as lezer } from '@lezer/python';
import { Language, Parser } from 'web-tree-sitter';

const data = JSON.parse(readFileSync('bench/results/generate-cpu-1T-qs-code-diffusion-small-v2-syntax.json', 'utf8'));
const heads = data.prompts.list;

function cut(head, body) {
  const indent = head.length - head.trimStart().length;
  const lines = body.split('\n').slice(1);
  let kept = [];
  let broke = false;
  for (const line of lines) {
    if (line.trim() && line.length - line.trimStart().length <= indent) { broke = true; break; }
    kept.push(line);
  }
  if (!broke) kept = kept.slice(0, -1);
  const strip = (l) => l.slice(Math.min(indent, l.length - l.trimStart().length));
  return [head, ...kept].map(strip).join('\n') + '\n';
}

await Parser.init();
const ts = new Parser();
ts.setLanguage(await Language.load('node_modules/tree-sitter-python/tree-sitter-python.wasm'));

const parsers = {
  lezer: {
    hasError(text) {
      let e = false;
      lezer.parse(text).iterate({ enter: (n) => { if (n.type.isError) e = true; return !e; } });
      return e;
    },
    parse: (text) => lezer.parse(text),
  },
  'tree-sitter': {
    hasError(text) {
      const tree = ts.parse(text);
      const e = tree.rootNode.hasError;
      tree.delete();
      return e;
    },
    parse: (text) => ts.parse(text).delete(),
  },
};

const texts = data.runs.map((r) => heads[r.prompt] + r.text);
const cuts = data.runs.map((r) => ({ code: cut(heads[r.prompt], r.text), ok: r.syntaxOk }));
const rows = {};
for (const [name, p] of Object.entries(parsers)) {
  for (const t of texts) p.parse(t); // warm-up
  const ms = texts.map((t) => { const t0 = performance.now(); p.parse(t); return performance.now() - t0; }).sort((a, b) => a - b);
  let agree = 0, missed = 0, alarms = 0;
  for (const c of cuts) {
    const e = p.hasError(c.code);
    if (e === !c.ok) agree++;
    else if (c.ok) alarms++;
    else missed++;
  }
  rows[name] = {
    msMedian: +ms[ms.length >> 1].toFixed(4),
    msMean: +(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(4),
    chars: Math.round(texts.reduce((a, t) => a + t.length, 0) / texts.length),
    agreesWithAst: `${agree}/${cuts.length}`,
    errorsMissed: missed,
    falseAlarms: alarms,
  };
}
console.log('| parser | ms / parse (median) | mean | chars / text | agrees with ast.parse | errors missed | false alarms |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [n, r] of Object.entries(rows)) console.log(`| ${n} | ${r.msMedian} | ${r.msMean} | ${r.chars} | ${r.agreesWithAst} | ${r.errorsMissed} | ${r.falseAlarms} |`);
writeFileSync('bench/results/parser.json', JSON.stringify({ date: new Date().toISOString(), command: 'node bench/parser.bench.mjs', texts: texts.length, rows }, null, 1) + '\n');
