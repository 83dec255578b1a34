// Preloaded with `node --import` by the start-up test: appends the URL of every
// module the program loads to the file named by RECORD_LOADS: ES modules as they
// are resolved (record-loads-hooks.mjs), CommonJS ones from require's cache
// when the process exits (pg, undici, cli-progress... are CommonJS).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

register('./record-loads-hooks.mjs', import.meta.url);
const require = createRequire(import.meta.url);
process.on('exit', () => {
  const files = Object.keys(require.cache).map((file) => pathToFileURL(file).href);
  appendFileSync(process.env.RECORD_LOADS, files.map((url) => url + '\n').join(''));
});
