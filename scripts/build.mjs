// Bundles the CLI into one ESM file: one module to load starts faster than a tree of them
// (the `tgc plan` startup budget is 4× `node -e 0`).
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { validatorCode } from './validator-code.mjs';

writeFileSync(new URL('../schema/composition.validate.mjs', import.meta.url), validatorCode());

await build({
  entryPoints: { tgc: 'compiler/bin.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
  // CommonJS dependencies (ajv, commander) call require() for Node built-ins.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __tgcRequire } from 'node:module';\nconst require = __tgcRequire(import.meta.url);" },
});
