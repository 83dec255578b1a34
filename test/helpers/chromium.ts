/**
 * The Chromium that the browser test drives: Debian's (/usr/bin/chromium) when
 * it is installed, else the headless Chromium that the devDependency
 * `@sparticuz/chromium` carries inside its npm package (brotli-compressed),
 * unpacked once into node_modules/.cache/. Nothing is downloaded: `npm ci`
 * brought it from the npm registry, with the rest of the lockfile.
 *
 * Why @sparticuz/chromium 153.0.0 (pinned exactly in package.json):
 * - it carries Chromium 153.0.8010.0 (headless_shell, x64), the Chromium that
 *   playwright-core 1.63 was made for (1.63.0 bundles 153.0.8010.12). We run it
 *   with playwright-core 1.65 (made for Chromium 159), as we run Debian
 *   bookworm's chromium 156 with it: the whole browser test passes with both.
 *   143.0.4, the last release whose `engines` admits Node 20, carries
 *   Chromium 143, sixteen majors behind playwright-core 1.65.
 * - its `engines` asks for Node ^22.17 || >=24, so `npm ci` on Node 20 warns
 *   (EBADENGINE). The warning is about the versions its makers test on: its
 *   code (build/*.js: fs streams, zlib brotli, tar-fs) uses nothing that
 *   Node 20 lacks, and we call only executablePath() and inflate(), which
 *   never touch the network.
 * - it has no install script (npm 11's `allowScripts` need not list it).
 * Bumping it: pick the release whose Chromium is nearest playwright-core's
 * (`node_modules/playwright-core/browsers.json`), then run
 * `node test/run.mjs browser` on a machine without /usr/bin/chromium.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ROOT } from './cli.js';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Debian's Chromium is installed: /usr/bin/chromium is there and executable. */
export function hasDebianChromium(): boolean {
  try {
    accessSync(DEBIAN_CHROMIUM, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Headless Chromium as root that never reaches for the internet (PITFALLS.md). */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumToLaunch {
  /** which one, for the test's log */
  name: string;
  /** 'debian' or 'npm' */
  source: 'debian' | 'npm';
  /** for the npm one: the @sparticuz/chromium version */
  packageVersion?: string;
  executablePath: string;
  args: string[];
  /** the browser process's environment */
  env: NodeJS.ProcessEnv;
}

/** Debian's Chromium when there is one, else the one from npm (unpacked on first use). */
export async function chromiumToLaunch(): Promise<ChromiumToLaunch> {
  if (hasDebianChromium()) {
    return { name: `Debian's Chromium (${DEBIAN_CHROMIUM})`, source: 'debian', executablePath: DEBIAN_CHROMIUM, args: ARGS, env: process.env };
  }
  const { dir, version } = await unpackedNpmChromium();
  return {
    name: `@sparticuz/chromium ${version} (${path.relative(ROOT, dir)})`,
    source: 'npm',
    packageVersion: version,
    executablePath: path.join(dir, 'chromium'),
    args: ARGS,
    env: {
      ...process.env,
      // NSS and expat as built for the package (Amazon Linux 2023, glibc 2.34): a
      // bare Debian (node:20-bookworm-slim) has no libnss3
      LD_LIBRARY_PATH: [path.join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      // the package's fonts.conf names /tmp/fonts; ours names where the fonts are
      FONTCONFIG_FILE: path.join(dir, 'fonts.conf'),
    },
  };
}

/**
 * The package's files unpacked into node_modules/.cache/truefilm-chromium/<version>/:
 * chromium, the SwiftShader libraries beside it, fonts/ and al2023/lib/.
 * The package unpacks into os.tmpdir() (/tmp/chromium, /tmp/fonts, ...) and
 * takes whatever /tmp/chromium it finds there, whichever version or half-written:
 * here it unpacks in a child process whose TMPDIR is a fresh directory, renamed
 * into place when complete, so that runs side by side never see half a browser.
 */
async function unpackedNpmChromium(): Promise<{ dir: string; version: string }> {
  const entry = fileURLToPath(import.meta.resolve('@sparticuz/chromium'));
  const packageDir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const cache = path.join(ROOT, 'node_modules', '.cache', 'truefilm-chromium');
  const dir = path.join(cache, version);
  if (existsSync(path.join(dir, 'chromium'))) return { dir, version };

  await mkdir(cache, { recursive: true });
  const staging = await mkdtemp(path.join(cache, '.unpacking-'));
  try {
    const script = [
      "const { default: chromium, inflate } = await import('@sparticuz/chromium');",
      'const executable = await chromium.executablePath();',
      'await inflate(process.argv[1]);',
      'process.stdout.write(executable);',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, path.join(packageDir, 'bin', 'al2023.tar.br')], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: staging },
    });
    if (stdout !== path.join(staging, 'chromium')) throw new Error(`@sparticuz/chromium unpacked to ${stdout}, not into ${staging}`);
    await writeFile(
      path.join(staging, 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${dir}/fonts</dir>\n  <cachedir>${dir}/fonts-cache</cachedir>\n</fontconfig>\n`,
    );
    try {
      await rename(staging, dir);
    } catch (err) {
      // another run put it there first
      if (!existsSync(path.join(dir, 'chromium'))) throw err;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  // other versions' unpacked browsers (about 220 MB each) are no use any more
  for (const name of await readdir(cache)) {
    if (name !== version && !name.startsWith('.')) await rm(path.join(cache, name), { recursive: true, force: true });
  }
  return { dir, version };
}
