// Module hooks for record-loads.mjs: every resolved ES module URL goes to RECORD_LOADS.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  appendFileSync(process.env.RECORD_LOADS, result.url + '\n');
  return result;
}
