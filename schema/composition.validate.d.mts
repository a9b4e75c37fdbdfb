// Types for the generated validator (schema/composition.validate.mjs, written by scripts/build.mjs).
import type { ValidateFunction } from 'ajv';

export declare const validate: ValidateFunction;
export default validate;
