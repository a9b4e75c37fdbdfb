// Writes schema/composition.validate.mjs from the JSON Schema (npm run generate). The file is
// committed; test/unit/schema.test.ts generates it again in memory and fails when they differ,
// so a schema change without this step fails npm test.
import { writeFileSync } from 'node:fs';
import { validatorCode } from './validator-code.mjs';

writeFileSync(new URL('../schema/composition.validate.mjs', import.meta.url), validatorCode());
