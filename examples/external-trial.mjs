#!/usr/bin/env node
// An external trial command for `autopeft search|worker --trial-cmd "node examples/external-trial.mjs"`.
//
// Protocol (docs/distributed.md): autopeft writes ONE JSON object on stdin, e.g.
//   {"study":"s","trial":7,"model":"use-lite","task":"sst2","dataDir":"../data",
//    "peft":{"layers":[true,false],"sa":64,"pa":0,"pt":8,"lora":0,"options":{...}},
//    "hyper":{"epochs":3,"lr":0.001,"batchSize":32,"maxLength":64},"fidelity":{"trainCount":2000},
//    "seed":0,"outputDir":"autopeft-trials/s/trial-7","paramPct":1.23}
// and reads the LAST non-empty line of stdout as the result:
//   {"metric": 0.87, "intermediate": [0.80, 0.85, 0.87]}
// Everything on stderr goes to the worker's log. Exit non-zero (or print no result line) to fail
// the trial; the worker's --trial-timeout kills a command that runs too long.
//
// This example does not train: it scores the configuration with a smooth made-up function (bigger
// adapters help, with diminishing returns, plus seeded noise) so the whole loop can be tried in
// seconds. Replace `score` with your training (PyTorch, JAX, a cluster job...) and keep the I/O.
// EXAMPLE_TRIAL_MS=<n> makes each trial take n milliseconds (to watch workers share a study).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const { peft, hyper, seed, trial, outputDir } = input;

function score(p, epoch) {
  const active = p.layers.filter(Boolean).length / Math.max(1, p.layers.length);
  const capacity = Math.log1p(p.sa) + 0.8 * Math.log1p(p.pa) + 0.5 * Math.log1p(p.pt) + 0.6 * Math.log1p(p.lora);
  // A seeded per-configuration wobble, like run-to-run noise.
  const key = JSON.stringify([p, seed]);
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  const noise = ((h % 1000) / 1000 - 0.5) * 0.02;
  const full = 0.5 + 0.4 * (1 - Math.exp(-capacity * active / 4)) + noise;
  return full * (1 - 0.3 / (epoch + 1) ** 2);
}

const ms = Number(process.env.EXAMPLE_TRIAL_MS ?? 0);
const intermediate = [];
for (let epoch = 0; epoch < hyper.epochs; epoch++) {
  if (ms > 0) await new Promise((r) => setTimeout(r, ms / hyper.epochs));
  intermediate.push(score(peft, epoch));
  process.stderr.write(`trial ${trial}: epoch ${epoch + 1}/${hyper.epochs} metric ${intermediate.at(-1).toFixed(4)}\n`);
}
writeFileSync(join(outputDir, 'result.json'), JSON.stringify({ input, intermediate }, null, 2));
console.log(JSON.stringify({ metric: intermediate.at(-1), intermediate }));
